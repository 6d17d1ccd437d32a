// Little helpers for the model files closedloop writes itself (model.mlp and its
// featurizer): trivially copyable values and vectors in host byte order
// (little-endian on every machine closedloop targets). Reads report failure by
// returning false (short stream); callers turn that into a Status.
#pragma once

#include <cstddef>
#include <istream>
#include <ostream>
#include <vector>

namespace closedloop::binary_io {

template <typename T>
void Put(std::ostream& out, T v) {
  out.write(reinterpret_cast<const char*>(&v), sizeof v);
}
template <typename T>
bool Get(std::istream& in, T& v) {
  return static_cast<bool>(in.read(reinterpret_cast<char*>(&v), sizeof v));
}
template <typename T>
void PutVec(std::ostream& out, const std::vector<T>& v) {
  out.write(reinterpret_cast<const char*>(v.data()),
            static_cast<std::streamsize>(v.size() * sizeof(T)));
}
// Resizes `v` to `n` and fills it from the stream.
template <typename T>
bool GetVec(std::istream& in, std::vector<T>& v, size_t n) {
  v.resize(n);
  return static_cast<bool>(
      in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(T))));
}

}  // namespace closedloop::binary_io

// JsonWriter: the one JSON writer used everywhere (responses, stored records, logs).
//
// Streams into a std::string without building a DOM; commas are inserted
// automatically. Strings are escaped per RFC 8259; the caller passes valid UTF-8
// (everything we echo came through simdjson, which validates it). Non-finite
// doubles are written as null, since JSON has no NaN/Inf.
//
// Usage:
//   JsonWriter w;
//   w.BeginObject().Key("label").String("card_arrival").Key("p").Double(0.93).EndObject();
//   std::string body = std::move(w).Take();
//
// Nesting is limited to 64 levels (plenty for responses; deeper is a bug).
// Thread safety: none; one writer per thread/response.
#pragma once

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>

namespace closedloop {

class JsonWriter {
 public:
  // `reserve`: initial buffer capacity in bytes (one allocation for typical responses).
  explicit JsonWriter(size_t reserve = 512) { out_.reserve(reserve); }
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Uint(uint64_t value);
  JsonWriter& Double(double value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // Inserts already-serialized JSON as one value (e.g. a stored array).
  JsonWriter& Raw(std::string_view json);

  const std::string& str() const { return out_; }
  std::string Take() && { return std::move(out_); }

  static void AppendEscaped(std::string& out, std::string_view s);

 private:
  void BeforeValue();
  void Open(char c);
  void Close(char c);
  std::string out_;
  // Bit d is set while the container at depth d has no element yet.
  std::bitset<64> first_;
  int depth_ = 0;
  bool after_key_ = false;
};

}  // namespace closedloop

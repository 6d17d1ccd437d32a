// A fresh directory under $TMPDIR, removed with its contents on destruction.
#pragma once

#include <filesystem>
#include <string>

namespace closedloop::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Copies the test model trained by the ctest fixture into <dir>/models and sets
// its `champion` alias. Returns the repository path.
std::string InstallTestModel(const std::string& data_dir);

// A quantized copy (fastText product quantization, model.ftz) of a model.bin.
void QuantizeFastTextModel(const std::string& model_bin, const std::string& model_ftz);

void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);

}  // namespace closedloop::testing

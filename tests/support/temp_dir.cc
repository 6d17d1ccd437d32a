#include "support/temp_dir.h"

#include <stdlib.h>

#include <fasttext/fasttext.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace closedloop::testing {
namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "closedloop-test-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string InstallTestModel(const std::string& data_dir) {
  std::string repo = data_dir + "/models";
  fs::create_directories(repo + "/support-intent");
  fs::copy(std::string(CLOSEDLOOP_TEST_MODELS) + "/support-intent/1", repo + "/support-intent/1",
           fs::copy_options::recursive);
  WriteFile(repo + "/support-intent/aliases.toml", "champion = 1\n");
  return repo;
}

void QuantizeFastTextModel(const std::string& model_bin, const std::string& model_ftz) {
  fasttext::FastText ft;
  ft.loadModel(model_bin);
  fasttext::Args q;
  q.qout = false;
  q.retrain = false;  // no training data needed
  q.cutoff = 0;
  q.dsub = 2;
  q.qnorm = false;
  ft.quantize(q);
  ft.saveModel(model_ftz);
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace closedloop::testing

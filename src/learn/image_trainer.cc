#include "learn/image_trainer.h"

#include <zlib.h>

#include <Eigen/Dense>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <sstream>

#include "core/sha256.h"
#include "learn/staged_dir.h"
#include "monitor/reference_profile.h"
#include "serving/image_input.h"
#include "serving/model_config.h"
#include "serving/onnx_backend.h"
#include "serving/onnx_export.h"

namespace closedloop {
namespace {

namespace fs = std::filesystem;
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vector = Eigen::VectorXf;

// Images as rows of 8-bit-scale pixels ([H][W][C] order), and their labels.
struct ImageSet {
  int width = 0, height = 0, channels = 1;
  std::vector<std::vector<float>> pixels;
  std::vector<std::string> labels;
  std::string sha256;
};

StatusOr<std::string> ReadMaybeGzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");  // reads plain files unchanged
  if (f == nullptr) return NotFound("'" + path + "' cannot be read");
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  const bool failed = n < 0;
  gzclose(f);
  if (failed) return InvalidArgument("'" + path + "' is not a readable (gzip) file");
  return out;
}

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, ',')) {
    while (!cell.empty() && (cell.back() == '\r' || cell.back() == ' ')) cell.pop_back();
    cells.push_back(cell);
  }
  return cells;
}

bool ParseNumber(const std::string& s, double& v) {
  if (s.empty()) return false;
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return end != nullptr && *end == '\0' && std::isfinite(v);
}

StatusOr<ImageSet> ReadCsv(const ImageTrainOptions& o) {
  ASSIGN_OR_RETURN(std::string text, ReadMaybeGzip(o.input));
  ImageSet set;
  set.sha256 = Sha256Hex(text);
  set.channels = o.channels;
  std::istringstream in(text);
  std::string line;
  size_t line_no = 0, label_col = 0, columns = 0;
  bool first = true;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line == "\r") continue;
    auto cells = SplitCsvLine(line);
    if (first) {
      first = false;
      double v;
      const bool header = std::any_of(cells.begin(), cells.end(),
                                      [&](const std::string& c) { return !ParseNumber(c, v); });
      columns = cells.size();
      label_col = columns - 1;
      if (header) {
        auto it = std::find(cells.begin(), cells.end(), o.label_col);
        if (it == cells.end()) {
          return InvalidArgument("'" + o.input + "' has a header without the label column '" +
                                 o.label_col + "'");
        }
        label_col = static_cast<size_t>(it - cells.begin());
        continue;
      }
    }
    if (cells.size() != columns) {
      return InvalidArgument("'" + o.input + "' line " + std::to_string(line_no) + " has " +
                             std::to_string(cells.size()) + " columns, not " +
                             std::to_string(columns));
    }
    std::vector<float> px;
    px.reserve(columns - 1);
    for (size_t c = 0; c < cells.size(); ++c) {
      if (c == label_col) continue;
      double v;
      if (!ParseNumber(cells[c], v) || v < 0 || v > o.pixel_max) {
        return InvalidArgument("'" + o.input + "' line " + std::to_string(line_no) + " column " +
                               std::to_string(c + 1) + ": '" + cells[c] +
                               "' is not a pixel value in [0, " + std::to_string(o.pixel_max) +
                               "]");
      }
      px.push_back(static_cast<float>(v * 255.0 / o.pixel_max));
    }
    set.pixels.push_back(std::move(px));
    set.labels.push_back(cells[label_col]);
  }
  if (set.pixels.empty()) return InvalidArgument("'" + o.input + "' holds no image rows");
  const size_t n = set.pixels.front().size();
  if (o.width > 0 && o.height > 0) {
    set.width = o.width;
    set.height = o.height;
  } else {
    const auto side = static_cast<int>(std::lround(std::sqrt(n / o.channels)));
    set.width = set.height = side;
  }
  if (static_cast<size_t>(set.width) * set.height * set.channels != n) {
    return InvalidArgument("'" + o.input + "' rows hold " + std::to_string(n) +
                           " pixels, not width x height x channels = " + std::to_string(set.width) +
                           "x" + std::to_string(set.height) + "x" + std::to_string(set.channels) +
                           " (give --width and --height)");
  }
  return set;
}

StatusOr<ImageSet> ReadFolder(const ImageTrainOptions& o) {
  if (o.width <= 0 || o.height <= 0) {
    return InvalidArgument("a folder of images needs --width and --height (the model's size)");
  }
  ImageSet set{o.width, o.height, o.channels, {}, {}, {}};
  ImageConfig raw;  // decode and resize only: pixels stay in [0, 255]
  raw.width = o.width;
  raw.height = o.height;
  raw.channels = o.channels;
  raw.layout = "nhwc";
  raw.scale = 1;
  raw.thumbnail_px = 0;
  std::vector<fs::path> files;
  for (const auto& label_dir : fs::directory_iterator(o.input)) {
    if (!label_dir.is_directory()) continue;
    for (const auto& f : fs::directory_iterator(label_dir.path())) {
      std::string ext = f.path().extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
      if (ext == ".png" || ext == ".jpg" || ext == ".jpeg") files.push_back(f.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::string digest;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto p = PrepareEncodedImage(bytes, raw, f.string());
    if (!p.ok()) return p.status();
    set.pixels.push_back(std::move(p->values));
    set.labels.push_back(f.parent_path().filename().string());
    digest += p->sha256;
  }
  if (set.pixels.empty()) {
    return InvalidArgument("'" + o.input + "' has no label folders with PNG or JPEG files");
  }
  set.sha256 = Sha256Hex(digest);
  return set;
}

// Stratified split of row indices: `share` of each label's rows (at least one of
// a label with two or more) go to `held`.
void Split(const std::vector<int>& y, const std::vector<size_t>& rows, double share,
           std::mt19937& rng, std::vector<size_t>& kept, std::vector<size_t>& held) {
  std::map<int, std::vector<size_t>> by_label;
  for (size_t r : rows) by_label[y[r]].push_back(r);
  for (auto& [label, idx] : by_label) {
    std::shuffle(idx.begin(), idx.end(), rng);
    size_t h = static_cast<size_t>(std::lround(share * static_cast<double>(idx.size())));
    if (idx.size() >= 2) h = std::clamp<size_t>(h, 1, idx.size() - 1);
    if (share <= 0 || idx.size() < 2) h = 0;
    held.insert(held.end(), idx.begin(), idx.begin() + static_cast<long>(h));
    kept.insert(kept.end(), idx.begin() + static_cast<long>(h), idx.end());
  }
  std::sort(kept.begin(), kept.end());
  std::sort(held.begin(), held.end());
}

struct Net {
  Matrix w1, w2;  // hidden x d, k x hidden
  Vector b1, b2;
};

// Adam state for one parameter.
struct Adam {
  Matrix m, v;
  void Init(Eigen::Index r, Eigen::Index c) {
    m = Matrix::Zero(r, c);
    v = Matrix::Zero(r, c);
  }
};

void AdamStep(Eigen::Ref<Matrix> p, const Matrix& g, Adam& s, double lr, double decay, int t) {
  constexpr float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
  Matrix grad = g + static_cast<float>(decay) * p;
  s.m = b1 * s.m + (1 - b1) * grad;
  s.v = b2 * s.v + (1 - b2) * grad.cwiseProduct(grad);
  const float c1 = 1 - std::pow(b1, static_cast<float>(t));
  const float c2 = 1 - std::pow(b2, static_cast<float>(t));
  p -= (static_cast<float>(lr) * (s.m / c1).array() / ((s.v / c2).array().sqrt() + eps)).matrix();
}

// Softmax probabilities of rows X (standardized pixels); H gets the hidden layer.
Matrix Forward(const Net& n, const Matrix& x, Matrix& h) {
  h = ((x * n.w1.transpose()).rowwise() + n.b1.transpose()).cwiseMax(0.f);
  Matrix z = (h * n.w2.transpose()).rowwise() + n.b2.transpose();
  for (Eigen::Index r = 0; r < z.rows(); ++r) {
    z.row(r).array() -= z.row(r).maxCoeff();
    z.row(r) = z.row(r).array().exp().matrix();
    z.row(r) /= z.row(r).sum();
  }
  return z;
}

Matrix Rows(const Matrix& x, const std::vector<size_t>& rows) {
  Matrix out(static_cast<Eigen::Index>(rows.size()), x.cols());
  for (size_t i = 0; i < rows.size(); ++i) out.row(static_cast<Eigen::Index>(i)) = x.row(rows[i]);
  return out;
}

double Accuracy(const Matrix& p, const std::vector<int>& y, const std::vector<size_t>& rows) {
  size_t right = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    Eigen::Index best;
    p.row(static_cast<Eigen::Index>(i)).maxCoeff(&best);
    right += best == y[rows[i]] ? 1 : 0;
  }
  return rows.empty() ? 0 : static_cast<double>(right) / static_cast<double>(rows.size());
}

std::vector<std::vector<float>> ToRows(const Matrix& m) {
  std::vector<std::vector<float>> out(static_cast<size_t>(m.rows()));
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    out[static_cast<size_t>(r)].assign(m.row(r).data(), m.row(r).data() + m.cols());
  }
  return out;
}

}  // namespace

StatusOr<ImageTrainResult> TrainImageClassifier(const ImageTrainOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (o.channels != 1 && o.channels != 3) return InvalidArgument("--channels must be 1 or 3");
  std::error_code ec;
  ASSIGN_OR_RETURN(ImageSet set, fs::is_directory(o.input, ec) ? ReadFolder(o) : ReadCsv(o));
  ASSIGN_OR_RETURN(StagedDir staged, StagedDir::Create(o.output_dir, o.overwrite));

  ImageTrainResult result;
  result.width = set.width;
  result.height = set.height;
  result.channels = set.channels;
  result.data_sha256 = set.sha256;
  std::set<std::string> label_set(set.labels.begin(), set.labels.end());
  result.labels.assign(label_set.begin(), label_set.end());
  if (result.labels.size() < 2) return InvalidArgument("the images carry fewer than 2 labels");
  std::vector<int> y;
  for (const auto& l : set.labels) {
    y.push_back(static_cast<int>(std::lower_bound(result.labels.begin(), result.labels.end(), l) -
                                 result.labels.begin()));
  }
  std::mt19937 rng(static_cast<uint32_t>(o.seed));
  std::vector<size_t> all(set.pixels.size()), rest, test, train, val;
  std::iota(all.begin(), all.end(), 0);
  Split(y, all, o.test_fraction, rng, rest, test);
  Split(y, rest, o.validation_fraction, rng, train, val);
  if (train.empty() || val.empty()) {
    return InvalidArgument("too few images to split into training and validation parts");
  }
  result.train_rows = train.size();

  // x = pixel / 255; per-channel mean and standard deviation over the training rows.
  const int ch = set.channels;
  const Eigen::Index d = static_cast<Eigen::Index>(set.pixels.front().size());
  std::vector<double> mean(ch, 0), sd(ch, 0);
  std::vector<double> count(ch, 0);
  for (size_t r : train) {
    for (Eigen::Index j = 0; j < d; ++j) {
      const double x = set.pixels[r][j] / 255.0;
      mean[j % ch] += x;
      sd[j % ch] += x * x;
      count[j % ch] += 1;
    }
  }
  for (int c = 0; c < ch; ++c) {
    mean[c] /= count[c];
    sd[c] = std::sqrt(std::max(1e-12, sd[c] / count[c] - mean[c] * mean[c]));
  }
  // The model input in NCHW order, standardized; the CSV rows are [H][W][C].
  const int hw = set.width * set.height;
  Matrix x(static_cast<Eigen::Index>(set.pixels.size()), d);
  for (size_t r = 0; r < set.pixels.size(); ++r) {
    for (int p = 0; p < hw; ++p) {
      for (int c = 0; c < ch; ++c) {
        const double v = set.pixels[r][static_cast<size_t>(p) * ch + c] / 255.0;
        x(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c) * hw + p) =
            static_cast<float>((v - mean[c]) / sd[c]);
      }
    }
  }

  const Eigen::Index k = static_cast<Eigen::Index>(result.labels.size()), hdim = o.hidden;
  Net net;
  std::normal_distribution<float> n01(0.f, 1.f);
  net.w1 = Matrix(hdim, d);
  net.w2 = Matrix(k, hdim);
  const float s1 = std::sqrt(2.f / static_cast<float>(d)), s2 = std::sqrt(1.f / hdim);
  for (Eigen::Index i = 0; i < net.w1.size(); ++i) net.w1.data()[i] = n01(rng) * s1;
  for (Eigen::Index i = 0; i < net.w2.size(); ++i) net.w2.data()[i] = n01(rng) * s2;
  net.b1 = Vector::Zero(hdim);
  net.b2 = Vector::Zero(k);
  Adam aw1, aw2, ab1, ab2;
  aw1.Init(hdim, d);
  aw2.Init(k, hdim);
  ab1.Init(1, hdim);
  ab2.Init(1, k);
  const Matrix xval = Rows(x, val);
  Net best = net;
  double best_acc = -1;
  int t = 0;
  std::vector<size_t> order = train;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    double loss = 0;
    for (size_t b = 0; b < order.size(); b += static_cast<size_t>(o.batch_size)) {
      std::vector<size_t> rows(
          order.begin() + static_cast<long>(b),
          order.begin() + static_cast<long>(std::min(order.size(), b + o.batch_size)));
      const Matrix xb = Rows(x, rows);
      Matrix h;
      Matrix p = Forward(net, xb, h);
      Matrix dz = p;
      for (size_t i = 0; i < rows.size(); ++i) {
        const auto r = static_cast<Eigen::Index>(i);
        loss -= std::log(std::max(1e-12f, p(r, y[rows[i]])));
        dz(r, y[rows[i]]) -= 1;
      }
      dz /= static_cast<float>(rows.size());
      Matrix gw2 = dz.transpose() * h;
      Matrix gb2 = dz.colwise().sum();
      Matrix dh = (dz * net.w2).cwiseProduct((h.array() > 0).cast<float>().matrix());
      Matrix gw1 = dh.transpose() * xb;
      Matrix gb1 = dh.colwise().sum();
      ++t;
      AdamStep(net.w1, gw1, aw1, o.learning_rate, o.weight_decay, t);
      AdamStep(net.w2, gw2, aw2, o.learning_rate, o.weight_decay, t);
      Matrix b1 = net.b1.transpose(), b2 = net.b2.transpose();
      AdamStep(b1, gb1, ab1, o.learning_rate, 0, t);
      AdamStep(b2, gb2, ab2, o.learning_rate, 0, t);
      net.b1 = b1.transpose();
      net.b2 = b2.transpose();
    }
    Matrix h;
    const double acc = Accuracy(Forward(net, xval, h), y, val);
    result.train_loss.emplace_back(epoch, loss / static_cast<double>(order.size()));
    result.validation_accuracy.emplace_back(epoch, acc);
    if (acc > best_acc) {
      best_acc = acc;
      best = net;
      result.best_epoch = epoch;
    }
  }

  ImageMlpHead head;
  head.channels = ch;
  head.height = set.height;
  head.width = set.width;
  head.hidden = static_cast<int>(hdim);
  head.labels = static_cast<int>(k);
  head.w1.assign(best.w1.data(), best.w1.data() + best.w1.size());
  head.b1.assign(best.b1.data(), best.b1.data() + best.b1.size());
  head.w2.assign(best.w2.data(), best.w2.data() + best.w2.size());
  head.b2.assign(best.b2.data(), best.b2.data() + best.b2.size());
  const fs::path& dir = staged.path();
  const std::string model_file = (dir / "model.onnx").string();
  ASSIGN_OR_RETURN(OnnxExportInfo info, ExportImageMlpToOnnx(head, model_file));
  result.model_bytes = info.bytes;

  // Evaluated through the exported file, as it will be served.
  ASSIGN_OR_RETURN(auto backend, OnnxBackend::Load(model_file, result.labels, 1));
  auto score = [&](const std::vector<size_t>& rows, std::vector<std::vector<float>>& probs,
                   std::vector<std::vector<float>>& embeddings) -> Status {
    const Matrix xr = Rows(x, rows);
    Tensor in{"image",
              DataType::kFp32,
              {static_cast<int64_t>(rows.size()), ch, set.height, set.width},
              std::vector<float>(xr.data(), xr.data() + xr.size())};
    ASSIGN_OR_RETURN(auto out, backend->Infer({in}));
    for (const Tensor& t : out) {
      const auto& v = *t.As<float>();
      Matrix m = Eigen::Map<const Matrix>(v.data(), static_cast<Eigen::Index>(rows.size()),
                                          static_cast<Eigen::Index>(v.size() / rows.size()));
      (t.name == "probabilities" ? probs : embeddings) = ToRows(m);
    }
    return OkStatus();
  };
  std::vector<std::vector<float>> vprobs, vemb;
  RETURN_IF_ERROR(score(val, vprobs, vemb));
  std::vector<int> vtruth;
  for (size_t r : val) vtruth.push_back(y[r]);
  ASSIGN_OR_RETURN(result.validation, Evaluate(result.labels, vprobs, vtruth));
  std::vector<std::vector<float>> tprobs, temb;
  std::vector<int> ttruth;
  if (!test.empty()) {
    RETURN_IF_ERROR(score(test, tprobs, temb));
    for (size_t r : test) ttruth.push_back(y[r]);
    ASSIGN_OR_RETURN(result.test, Evaluate(result.labels, tprobs, ttruth));
  }

  ModelConfig config;
  config.flavor = "onnx";
  config.top_k = std::min<int>(5, static_cast<int>(k));
  config.labels = result.labels;
  config.batching.max_batch_size = 32;
  config.batching.max_queue_delay_us = 1000;
  ImageConfig ic;
  ic.width = set.width;
  ic.height = set.height;
  ic.channels = ch;
  ic.layout = "nchw";
  ic.scale = 1.0 / 255.0;
  ic.mean = mean;
  ic.std = sd;
  ic.input = "image";
  ic.output = "probabilities";
  ic.embedding_output = "embedding";
  ic.thumbnail_px = o.thumbnail_px;
  config.image = ic;
  RETURN_IF_ERROR(WriteVersionFiles(dir.string(), config, result.validation, result.test));

  // The drift reference: the held-out rows (test, else validation) as served.
  const bool use_test = !test.empty();
  const auto& ref_rows = use_test ? test : val;
  const auto& ref_probs = use_test ? tprobs : vprobs;
  const auto& ref_emb = use_test ? temb : vemb;
  ReferenceProfile profile;
  profile.rows = ref_rows.size();
  FeatureProfile brightness{"brightness", false, {}, {}, 0};
  FeatureProfile contrast{"contrast", false, {}, {}, 0};
  size_t right = 0;
  for (size_t i = 0; i < ref_rows.size(); ++i) {
    const auto& px = set.pixels[ref_rows[i]];
    double s = 0, s2 = 0;
    for (float v : px) {
      s += v / 255.0;
      s2 += (v / 255.0) * (v / 255.0);
    }
    const double m = s / static_cast<double>(px.size());
    brightness.sample.push_back(m);
    contrast.sample.push_back(
        std::sqrt(std::max(0.0, s2 / static_cast<double>(px.size()) - m * m)));
    const auto& p = ref_probs[i];
    const auto top = static_cast<size_t>(std::max_element(p.begin(), p.end()) - p.begin());
    profile.confidence.push_back(p[top]);
    profile.predicted[result.labels[top]] += 1;
    profile.truth[result.labels[y[ref_rows[i]]]] += 1;
    right += static_cast<int>(top) == y[ref_rows[i]] ? 1 : 0;
    if (i < 200) profile.vectors.push_back(ref_emb[i]);
  }
  profile.accuracy = static_cast<double>(right) / static_cast<double>(ref_rows.size());
  profile.features = {std::move(brightness), std::move(contrast)};
  {
    std::ofstream out(dir / kProfileFile);
    out << ReferenceProfileJson(profile);
    if (!out) return Unavailable("cannot write " + (dir / kProfileFile).string());
  }
  result.model_path = (staged.final_path() / "model.onnx").string();
  result.train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  RETURN_IF_ERROR(staged.Publish());
  return result;
}

}  // namespace closedloop

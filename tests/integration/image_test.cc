// Images through the real binary: `closedloop train image` on the 8x8 digits file
// of Debian's python3-sklearn, served by the ONNX backend with its [image] config
// over /v1/inference, /v1/predict and OIP (JSON arrays, PNG/JPEG, FP32 and BYTES
// tensors), logged with hash and thumbnail, given feedback, watched for drift; a
// PyTorch-style CNN written by onnx's own helper, batched; and every bad image.
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>
#include <thread>

#include "core/base64.h"
#include "integration/fixture.h"
#include "support/command.h"

namespace closedloop::testing {
namespace {

constexpr const char* kDigits =
    "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz";

constexpr const char* kImageConfig = R"(
[server]
body_limit_bytes = 65536
[monitor]
interval_ms = 0
window_predictions = 1000
min_window = 100
mmd_permutations = 50
)";

struct Digit {
  std::vector<int> pixels;  // 64 values in 0..16
  std::string label;
};

std::vector<Digit> ReadDigits(size_t n) {
  auto r = RunCommand(std::string("zcat ") + kDigits + " | head -n " + std::to_string(n));
  std::vector<Digit> out;
  std::istringstream in(r.output);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, ',')) cells.push_back(c);
    if (cells.size() != 65) continue;
    Digit d;
    for (int i = 0; i < 64; ++i) d.pixels.push_back(std::stoi(cells[i]));
    d.label = cells[64];
    out.push_back(std::move(d));
  }
  return out;
}

// [8][8][1] in 8-bit scale, as the served model takes it.
std::string ArrayJson(const std::vector<int>& px, int h = 8, int w = 8) {
  std::string s = "[";
  for (int y = 0; y < h; ++y) {
    s += y ? ",[" : "[";
    for (int x = 0; x < w; ++x) {
      s += (x ? ",[" : "[") + std::to_string(std::lround(px[y * 8 + x] * 255.0 / 16)) + "]";
    }
    s += "]";
  }
  return s + "]";
}

std::string Encode(const cv::Mat& m, const std::string& ext) {
  std::vector<uchar> buf;
  cv::imencode(ext, m, buf);
  return std::string(buf.begin(), buf.end());
}

std::string DigitPng(const std::vector<int>& px) {
  cv::Mat m(8, 8, CV_8UC1);
  for (int i = 0; i < 64; ++i) m.data[i] = static_cast<uchar>(std::lround(px[i] * 255.0 / 16));
  return Encode(m, ".png");
}

std::string Str(const Json& j, const char* key) {
  std::string_view s;
  return j.root[key].get(s) ? "" : std::string(s);
}

class ImageTest : public ServerFixture {
 protected:
  void TrainDigits() {
    auto r = RunClosedloop(std::string("train image --input ") + kDigits +
                           " --pixel-max 16 --epochs 40 --seed 3 --no-tracking --output " +
                           dir_.File("models/digits/1"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    test_accuracy_ = Field(r.output, "test_accuracy");
    std::cout << "[ figure ] digits test_accuracy " << test_accuracy_ << " test_rows "
              << Field(r.output, "test_rows") << "\n";
  }
  HttpResult Post(const std::string& path, const std::string& body) {
    return Fetch(port_, "POST", path, body);
  }
  double test_accuracy_ = 0;
};

TEST_F(ImageTest, TrainsDigitsAndServesArraysAndPngsWithFeedbackAndDrift) {
  TrainDigits();
  EXPECT_GE(test_accuracy_, 0.93);
  auto check = RunClosedloop("onnx check " + dir_.File("models/digits/1/model.onnx"));
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("result: SUPPORTED"), std::string::npos) << check.output;
  Start(kImageConfig);

  auto digits = ReadDigits(300);
  ASSERT_EQ(digits.size(), 300u);
  int right_json = 0, right_png = 0, same = 0;
  std::string first_id;
  for (size_t i = 0; i < 150; ++i) {
    // /v1/inference without "model": the one image model served is taken.
    auto r = Post("/v1/inference", R"({"image":)" + ArrayJson(digits[i].pixels) + "}");
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = ParseJson(r.body);
    if (i == 0) {
      first_id = Str(*j, "request_id");
      for (const char* k : {"request_id", "prediction", "confidence", "latency_ms", "label",
                            "top_k", "model", "version"}) {
        EXPECT_FALSE(j->root[k].error()) << k << " missing: " << r.body;
      }
      EXPECT_EQ(Str(*j, "model"), "digits");
      EXPECT_EQ(Str(*j, "version"), "1");
      EXPECT_EQ(Str(*j, "prediction"), Str(*j, "label"));
    }
    right_json += Str(*j, "label") == digits[i].label;
    auto p = Post("/v1/predict", R"({"model":"digits","image_b64":")" +
                                     Base64Encode(DigitPng(digits[i].pixels)) + "\"}");
    ASSERT_EQ(p.status, 200) << p.body;
    auto pj = ParseJson(p.body);
    right_png += Str(*pj, "label") == digits[i].label;
    same += Str(*pj, "label") == Str(*j, "label");
  }
  std::cout << "[ figure ] served accuracy json " << right_json / 150.0 << " png "
            << right_png / 150.0 << "\n";
  EXPECT_GE(right_json, 135);  // >= 90% (most of these rows were training rows)
  EXPECT_EQ(same, 150);        // the PNG holds the same 8-bit pixels as the array

  // Feedback on an image prediction, and what the log kept of the image.
  auto fb = Post("/v1/feedback", R"({"request_id":")" + first_id + R"(","label":"0","rating":5})");
  EXPECT_EQ(fb.status, 201) << fb.body;
  auto rec = Fetch(port_, "GET", "/v1/predictions/" + first_id);
  ASSERT_EQ(rec.status, 200) << rec.body;
  auto rj = ParseJson(rec.body);
  auto input = ParseJson(Str(*rj, "input_text"));
  ASSERT_TRUE(input) << rec.body;
  EXPECT_EQ(Str(*rj, "input_sha256").size(), 64u);
  std::string_view thumb;
  ASSERT_FALSE(input->root["image"]["thumbnail_png"].get(thumb)) << rec.body;
  auto png = Base64Decode(thumb);
  ASSERT_TRUE(png.ok());
  cv::Mat t = cv::imdecode(std::vector<uchar>(png->begin(), png->end()), cv::IMREAD_UNCHANGED);
  EXPECT_EQ(t.cols, 32);
  EXPECT_EQ(t.rows, 32);
  double brightness = -1;
  EXPECT_FALSE(input->root["brightness"].get(brightness));
  EXPECT_GT(brightness, 0.1);
  simdjson::dom::array emb;
  ASSERT_FALSE(input->root["embedding"].get(emb));
  EXPECT_EQ(emb.size(), 128u);

  // Drift: brightness and contrast as features, embeddings by MMD; all calm here.
  auto drift = Fetch(port_, "GET", "/v1/drift?model=digits");
  ASSERT_EQ(drift.status, 200) << drift.body;
  for (const char* s :
       {R"("name":"feature:brightness","test":"ks")", R"("name":"feature:contrast","test":"ks")",
        R"("name":"embedding","test":"mmd")"}) {
    EXPECT_NE(drift.body.find(s), std::string::npos) << s << " in " << drift.body;
  }
  EXPECT_EQ(drift.body.find("text_length"), std::string::npos) << drift.body;

  // Darker images: brightness drifts.
  for (size_t i = 150; i < 300; ++i) {
    std::vector<int> dim = digits[i].pixels;
    for (int& v : dim) v /= 3;
    ASSERT_EQ(Post("/v1/inference", R"({"image":)" + ArrayJson(dim) + "}").status, 200);
  }
  drift = Fetch(port_, "GET", "/v1/drift?model=digits&window=150");
  auto dj = ParseJson(drift.body);
  simdjson::dom::array signals;
  ASSERT_FALSE(dj->root["reports"].at(0)["signals"].get(signals)) << drift.body;
  bool brightness_drifted = false;
  for (auto s : signals) {
    std::string_view name;
    bool drifted = false;
    if (!s["name"].get(name) && name == "feature:brightness" && !s["drifted"].get(drifted)) {
      brightness_drifted = drifted;
    }
  }
  EXPECT_TRUE(brightness_drifted) << drift.body;

  // Labeling works on image predictions: selected by margin over the logged top-k,
  // shown with the image record (its thumbnail), answered like a text task.
  auto sel = Post("/v1/labeling/select", R"({"model":"digits","strategy":"margin","batch":5})");
  ASSERT_EQ(sel.status, 200) << sel.body;
  auto sj = ParseJson(sel.body);
  simdjson::dom::array tasks;
  ASSERT_FALSE(sj->root["tasks"].get(tasks)) << sel.body;
  EXPECT_EQ(tasks.size(), 5u) << sel.body;
  auto queue = Fetch(port_, "GET", "/v1/labeling/queue?model=digits&limit=1");
  ASSERT_EQ(queue.status, 200) << queue.body;
  auto qj = ParseJson(queue.body);
  auto task = qj->root["tasks"].at(0);
  std::string_view task_text, task_id;
  ASSERT_FALSE(task["text"].get(task_text)) << queue.body;
  ASSERT_FALSE(task["task_id"].get(task_id)) << queue.body;
  EXPECT_NE(task_text.find("\"thumbnail_png\":\"iVBOR"), std::string::npos) << queue.body;
  simdjson::dom::array suggestions;
  ASSERT_FALSE(task["suggestions"].get(suggestions));
  EXPECT_GE(suggestions.size(), 2u) << queue.body;
  auto answer =
      Post("/v1/labeling/tasks/" + std::string(task_id) + "/annotations", R"({"label":"7"})");
  EXPECT_EQ(answer.status, 201) << answer.body;

  EXPECT_EQ(Fetch(port_, "GET", "/health").status, 200);
}

TEST_F(ImageTest, OipTakesFp32AndEncodedBytesTensors) {
  TrainDigits();
  Start(kImageConfig);
  auto digits = ReadDigits(4);
  // BYTES: base64 PNGs in JSON data.
  std::string body = R"({"inputs":[{"name":"image","shape":[2],"datatype":"BYTES","data":[")" +
                     Base64Encode(DigitPng(digits[0].pixels)) + R"(",")" +
                     Base64Encode(DigitPng(digits[1].pixels)) + R"("]}]})";
  auto r = Post("/v2/models/digits/infer", body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("name":"probabilities","datatype":"FP32","shape":[2,10])"),
            std::string::npos)
      << r.body;
  // BYTES with the binary tensor extension: raw PNG files, length-prefixed.
  std::string raw;
  for (int i = 0; i < 2; ++i) {
    std::string file = DigitPng(digits[2 + i].pixels);
    uint32_t n = static_cast<uint32_t>(file.size());
    raw.append(reinterpret_cast<const char*>(&n), 4);
    raw += file;
  }
  std::string header = R"({"inputs":[{"name":"image","shape":[2],"datatype":"BYTES",)"
                       R"("parameters":{"binary_data_size":)" +
                       std::to_string(raw.size()) + "}}]}";
  auto b = Fetch(port_, "POST", "/v2/models/digits/infer", header + raw,
                 {{"Content-Type", "application/octet-stream"},
                  {"Inference-Header-Content-Length", std::to_string(header.size())}});
  ASSERT_EQ(b.status, 200) << b.body;
  // Each row is logged: the second row has the id "<request id>.1".
  std::string id = b.Header("x-request-id");
  auto rec = Fetch(port_, "GET", "/v1/predictions/" + id + ".1");
  EXPECT_EQ(rec.status, 200) << rec.body;
  EXPECT_NE(rec.body.find("thumbnail_png"), std::string::npos);

  // FP32 as the model takes it (normalized [N,1,8,8]); NaN refused.
  std::string zeros = "[";
  for (int i = 0; i < 64; ++i) zeros += (i ? ",0" : "0");
  zeros += "]";
  auto f = Post(
      "/v2/models/digits/infer",
      R"({"inputs":[{"name":"image","shape":[1,1,8,8],"datatype":"FP32","data":)" + zeros + "}]}");
  EXPECT_EQ(f.status, 200) << f.body;
  std::string nan_raw(64 * 4, '\0');
  float nan = std::nanf("");
  std::memcpy(&nan_raw[12], &nan, 4);
  std::string nh = R"({"inputs":[{"name":"image","shape":[1,1,8,8],"datatype":"FP32",)"
                   R"("parameters":{"binary_data_size":256}}]})";
  auto n = Fetch(port_, "POST", "/v2/models/digits/infer", nh + nan_raw,
                 {{"Content-Type", "application/octet-stream"},
                  {"Inference-Header-Content-Length", std::to_string(nh.size())}});
  EXPECT_EQ(n.status, 400) << n.body;
  EXPECT_NE(n.body.find("input 'image' element 3 is not finite"), std::string::npos) << n.body;
  auto bad = Post(
      "/v2/models/digits/infer",
      R"({"inputs":[{"name":"image","shape":[1],"datatype":"BYTES","data":["bm90IGFuIGltYWdl"]}]})");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("field 'image'"), std::string::npos) << bad.body;
}

long PeakRssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

TEST_F(ImageTest, BadImagesGetClearErrorsAndTheServerStaysUp) {
  TrainDigits();
  Start(kImageConfig);
  auto digits = ReadDigits(1);
  struct Case {
    std::string path, body;
    int status;
    std::string message;
  };
  std::vector<int> px = digits[0].pixels;
  std::string seven_rows = ArrayJson(px, 7, 8);
  cv::Mat m(64, 64, CV_8UC1, cv::Scalar(128));
  std::string png = Encode(m, ".png");
  // A real 100-megapixel PNG (10000 x 10000, one grey level: small once compressed).
  cv::Mat huge(10000, 10000, CV_8UC1, cv::Scalar(0));
  std::string huge_png = Encode(huge, ".png");
  huge.release();
  std::vector<Case> cases = {
      {"/v1/inference", R"({"model":"digits","image":)" + seven_rows + "}", 400,
       "field 'image' has shape [7][8][1]; the model expects [8][8][1] ([H][W][C])"},
      {"/v1/inference", R"({"model":"digits","image":[[[1e39]]]})", 400,
       "field 'image' element 0 is not a finite FP32 number"},
      {"/v1/inference", R"({"model":"digits","image":[[[NaN]]]})", 400, "malformed JSON"},
      {"/v1/inference",
       R"({"model":"digits","image_b64":")" + Base64Encode(png.substr(0, png.size() / 2)) + "\"}",
       400, "field 'image_b64': the png cannot be decoded"},
      {"/v1/inference", R"({"model":"digits","image_b64":")" + Base64Encode(huge_png) + "\"}", 413,
       "is a 10000x10000 image (100000000 pixels); the model accepts at most 40000000"},
      {"/v1/inference", R"({"model":"digits","image_b64":"bm90IGFuIGltYWdl"})", 400,
       "neither a PNG nor a JPEG"},
      {"/v1/predict", R"({"model":"support-intent","image":)" + ArrayJson(px) + "}", 400,
       "model 'support-intent' (flavor 'fasttext') takes 'text', not images"},
      {"/v1/predict", R"({"model":"digits","text":"a picture of a seven"})", 400,
       "model 'digits' is an image model: send 'image' (an array [8][8][1] ([H][W][C])) or "
       "'image_b64'"},
      {"/v1/predict", R"({"image":)" + ArrayJson(px) + "}", 400, "missing field 'model'"},
  };
  for (const auto& c : cases) {
    auto r = Post(c.path, c.body);
    EXPECT_EQ(r.status, c.status) << c.message << " -> " << r.body;
    EXPECT_NE(r.body.find(c.message), std::string::npos) << c.message << " -> " << r.body;
  }
  // Nothing was decoded into a 100-megapixel buffer: the peak stays far below 100 MB.
  long peak_kb = PeakRssKb(server_->pid());
  std::cout << "[ figure ] server peak RSS after the bad images: " << peak_kb / 1024 << " MiB\n";
  EXPECT_GT(peak_kb, 0);
  EXPECT_LT(peak_kb, 400 * 1024);
  auto ok = Post("/v1/inference", R"({"image":)" + ArrayJson(px) + "}");
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST_F(ImageTest, PytorchStyleCnnServesBatchedAt224) {
  std::filesystem::create_directories(dir_.File("models/cnn/1"));
  auto made = RunCommand("/usr/bin/python3 " + std::string(CLOSEDLOOP_SOURCE_DIR_FOR_TESTS) +
                         "/scripts/make_cnn_onnx.py " + dir_.File("models/cnn/1/model.onnx"));
  ASSERT_EQ(made.exit_code, 0) << made.output;
  auto check = RunClosedloop("onnx check " + dir_.File("models/cnn/1/model.onnx"));
  EXPECT_EQ(check.exit_code, 0) << check.output;
  for (const char* op : {"Conv x2  ok", "BatchNormalization x2  ok", "MaxPool x1  ok",
                         "GlobalAveragePool x1  ok", "Gemm x1  ok", "result: SUPPORTED"}) {
    EXPECT_NE(check.output.find(op), std::string::npos) << op << "\n" << check.output;
  }
  const std::string image_config = R"(flavor = "onnx"
labels = ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"]
[image]
width = 224
height = 224
channels = 3
input = "input"
output = "output"
softmax = true
embedding_output = "features"
mean = [0.485, 0.456, 0.406]
std = [0.229, 0.224, 0.225]
)";
  // "cnn" batches (8 lockstep clients fill each batch); "cnn-single" does not.
  WriteFile(dir_.File("models/cnn/1/config.toml"),
            image_config + "[batching]\nmax_batch_size = 8\nmax_queue_delay_us = 10000000\n");
  std::filesystem::create_directories(dir_.File("models/cnn-single/1"));
  std::filesystem::copy_file(dir_.File("models/cnn/1/model.onnx"),
                             dir_.File("models/cnn-single/1/model.onnx"));
  WriteFile(dir_.File("models/cnn-single/1/config.toml"), image_config);
  Start(kImageConfig);
  // 8 clients in lockstep, 2 requests each: batches of exactly 8.
  cv::Mat img(224, 224, CV_8UC3);
  cv::randu(img, 0, 255);
  std::string array = "[";
  for (int y = 0; y < 224; ++y) {
    array += y ? ",[" : "[";
    for (int x = 0; x < 224; ++x) {
      cv::Vec3b p = img.at<cv::Vec3b>(y, x);  // BGR in OpenCV; the JSON is RGB
      array += (x ? ",[" : "[") + std::to_string(p[2]) + "," + std::to_string(p[1]) + "," +
               std::to_string(p[0]) + "]";
    }
    array += "]";
  }
  array += "]";
  const std::string body = R"({"model":"cnn","image":)" + array + "}";
  std::atomic<int> failed{0};
  std::vector<std::string> labels(8);
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&, t] {
      Connection c(port_, std::chrono::seconds(60));
      for (int i = 0; i < 2; ++i) {
        auto r = c.Request("POST", "/v1/inference", body);
        if (r.status != 200) {
          ++failed;
          continue;
        }
        labels[t] = Str(*ParseJson(r.body), "label");
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(failed.load(), 0);
  for (const auto& l : labels) EXPECT_EQ(l, labels[0]);
  auto metrics = Fetch(port_, "GET", "/metrics").body;
  EXPECT_NE(metrics.find(R"(closedloop_batch_size_count{model="cnn",version="1"} 2)"),
            std::string::npos);
  EXPECT_NE(metrics.find(R"(closedloop_batch_size_sum{model="cnn",version="1"} 16)"),
            std::string::npos);

  // The same pixels as a PNG give the same answer; a JPEG of another size is resized.
  const std::string single = R"({"model":"cnn-single","image":)" + array + "}";
  auto a = ParseJson(Post("/v1/inference", single).body);
  auto p = Post("/v1/inference", R"({"model":"cnn-single","image_b64":")" +
                                     Base64Encode(Encode(img, ".png")) + "\"}");
  ASSERT_EQ(p.status, 200) << p.body;
  auto pj = ParseJson(p.body);
  double ca = 0, cp = 0;
  ASSERT_FALSE(a->root["confidence"].get(ca));
  ASSERT_FALSE(pj->root["confidence"].get(cp));
  EXPECT_NEAR(ca, cp, 1e-6);
  EXPECT_EQ(Str(*a, "label"), Str(*pj, "label"));
  cv::Mat wide(200, 300, CV_8UC3, cv::Scalar(40, 120, 200));
  auto jpg = Post("/v1/inference", R"({"model":"cnn-single","image_b64":")" +
                                       Base64Encode(Encode(wide, ".jpg")) + "\"}");
  EXPECT_EQ(jpg.status, 200) << jpg.body;
}

}  // namespace
}  // namespace closedloop::testing

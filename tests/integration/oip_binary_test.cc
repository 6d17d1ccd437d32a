// The OIP v2 binary tensor data extension through the real binary, as Triton's
// and KServe's HTTP clients use it: a JSON header whose length is given in
// Inference-Header-Content-Length, followed by the raw tensor bytes. Every body
// here is built byte by byte in the test (little-endian by hand, BYTES elements
// as a 4-byte length + bytes), never by closedloop's own serializer. No OIP
// client exists on the npm registry reachable here (checked), so none drives it.
#include <cmath>
#include <cstring>
#include <filesystem>

#include "integration/fixture.h"
#include "support/onnx_models.h"
#include "support/xgboost_model.h"

namespace closedloop::testing {
namespace {

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutF32(std::string& out, float f) {
  uint32_t bits = 0;
  std::memcpy(&bits, &f, 4);
  PutU32(out, bits);
}
uint32_t GetU32(std::string_view in, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
}
float GetF32(std::string_view in, size_t at) {
  uint32_t bits = GetU32(in, at);
  float f = 0;
  std::memcpy(&f, &bits, 4);
  return f;
}
std::string BytesSegment(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    PutU32(out, static_cast<uint32_t>(s.size()));
    out += s;
  }
  return out;
}

// POST header + segments with Inference-Header-Content-Length = header size.
HttpResult PostBinary(int port, const std::string& path, const std::string& header,
                      const std::string& segments) {
  return Fetch(port, "POST", path, header + segments,
               {{"Content-Type", "application/octet-stream"},
                {"Inference-Header-Content-Length", std::to_string(header.size())}});
}

// A binary answer split into its JSON header and the bytes after it.
struct BinaryAnswer {
  std::unique_ptr<Json> header;
  std::string data;
};
BinaryAnswer Split(const HttpResult& r) {
  const size_t n = std::stoul(r.Header("inference-header-content-length"));
  return {ParseJson(r.body.substr(0, n)), r.body.substr(n)};
}
uint64_t BinarySize(simdjson::dom::element output) {
  uint64_t n = 0;
  EXPECT_FALSE(output["parameters"]["binary_data_size"].get(n)) << simdjson::to_string(output);
  return n;
}

const std::vector<std::string> kTexts = {"I still have not received my new card",
                                         "I want a refund for this purchase"};

class OipBinaryTest : public ServerFixture {};

TEST_F(OipBinaryTest, ServerMetadataAdvertisesTheExtensions) {
  Start();
  auto r = Fetch(port_, "GET", "/v2");
  ASSERT_EQ(r.status, 200);
  for (const char* ext : {"\"binary_tensor_data\"", "\"classification\"", "\"model_repository\"",
                          "\"model_configuration\"", "\"statistics\""}) {
    EXPECT_NE(r.body.find(ext), std::string::npos) << ext << " in " << r.body;
  }
}

TEST_F(OipBinaryTest, BinaryBytesInputAnswersLikeV1PredictInJson) {
  Start();
  const std::string seg = BytesSegment(kTexts);
  const std::string header = R"({"id":"b1","inputs":[{"name":"text","shape":[2],)"
                             R"("datatype":"BYTES","parameters":{"binary_data_size":)" +
                             std::to_string(seg.size()) + "}}]}";
  auto r = PostBinary(port_, "/v2/models/support-intent/infer", header, seg);
  ASSERT_EQ(r.status, 200) << r.body;
  // Nothing asked for binary outputs: a plain JSON answer.
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_EQ(r.Header("inference-header-content-length"), "");
  auto j = ParseJson(r.body);
  EXPECT_EQ(j->Str("id"), "b1");
  for (size_t i = 0; i < kTexts.size(); ++i) {
    auto v1 = Predict(R"({"model":"support-intent","text":")" + kTexts[i] + "\"}");
    ASSERT_EQ(v1.status, 200);
    std::string_view label;
    ASSERT_FALSE(j->root["outputs"].at(0)["data"].at(i).get(label));
    EXPECT_EQ(label, ParseJson(v1.body)->Str("label"));
  }
  // The rows are logged like JSON rows (and can get feedback).
  std::string_view id;
  ASSERT_FALSE(j->root["parameters"]["request_id"].get(id));
  EXPECT_EQ(Fetch(port_, "GET", "/v1/predictions/" + std::string(id) + ".1").status, 200);
}

TEST_F(OipBinaryTest, AllOutputsBinaryWithBinaryDataOutput) {
  Start();
  const std::string seg = BytesSegment(kTexts);
  const std::string header =
      R"({"inputs":[{"name":"text","shape":[2],"datatype":"BYTES","parameters":)"
      R"({"binary_data_size":)" +
      std::to_string(seg.size()) + R"(}}],"parameters":{"binary_data_output":true}})";
  auto r = PostBinary(port_, "/v2/models/support-intent/infer", header, seg);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/octet-stream");
  auto a = Split(r);
  simdjson::dom::array outs;
  ASSERT_FALSE(a.header->root["outputs"].get(outs));
  ASSERT_EQ(outs.size(), 3u);
  // Outputs' bytes follow in output order: label (BYTES), confidence, probabilities.
  size_t at = 0;
  std::vector<std::string> labels;
  std::vector<float> conf, probs;
  for (size_t k = 0; k < 3; ++k) {
    simdjson::dom::element out = outs.at(k).value();
    EXPECT_TRUE(out["data"].error() == simdjson::NO_SUCH_FIELD) << "binary output has no data";
    const uint64_t n = BinarySize(out);
    std::string_view seg_bytes(a.data.data() + at, n);
    if (k == 0) {
      for (size_t p = 0; p < n;) {
        const uint32_t len = GetU32(seg_bytes, p);
        labels.emplace_back(seg_bytes.substr(p + 4, len));
        p += 4 + len;
      }
    } else {
      for (size_t p = 0; p < n; p += 4) (k == 1 ? conf : probs).push_back(GetF32(seg_bytes, p));
    }
    at += n;
  }
  EXPECT_EQ(at, a.data.size());
  ASSERT_EQ(labels.size(), 2u);
  ASSERT_EQ(conf.size(), 2u);
  ASSERT_EQ(probs.size(), 2u * 77);
  EXPECT_EQ(simdjson::to_string(outs.at(2)["shape"]), "[2,77]");
  for (size_t i = 0; i < 2; ++i) {
    auto v1 = ParseJson(Predict(R"({"model":"support-intent","text":")" + kTexts[i] + "\"}").body);
    EXPECT_EQ(labels[i], v1->Str("label"));
    EXPECT_NEAR(conf[i], v1->Num("confidence"), 1e-6);
    float sum = 0, best = 0;
    for (size_t c = 0; c < 77; ++c) {
      sum += probs[i * 77 + c];
      best = std::max(best, probs[i * 77 + c]);
    }
    EXPECT_NEAR(sum, 1.0, 1e-3);
    EXPECT_FLOAT_EQ(best, conf[i]);
  }
}

TEST_F(OipBinaryTest, PerOutputBinaryDataMixesJsonAndBinaryOutputs) {
  Start();
  // JSON input, one binary output, one JSON output, one binary classification.
  const std::string body =
      R"({"inputs":[{"name":"text","shape":[1],"datatype":"BYTES","data":[")" + kTexts[0] +
      R"("]}],"outputs":[{"name":"confidence","parameters":{"binary_data":true}},)"
      R"({"name":"label","parameters":{"binary_data":false}},)"
      R"({"name":"probabilities","parameters":{"classification":2,"binary_data":true}}]})";
  auto r = Fetch(port_, "POST", "/v2/models/support-intent/infer", body);
  ASSERT_EQ(r.status, 200) << r.body;
  auto a = Split(r);
  auto outs = a.header->root["outputs"];
  EXPECT_EQ(BinarySize(outs.at(0)), 4u);
  std::string_view label;
  ASSERT_FALSE(outs.at(1)["data"].at(0).get(label));
  EXPECT_TRUE(outs.at(1)["parameters"]["binary_data_size"].error());
  const float conf = GetF32(a.data, 0);
  std::string_view cls(a.data.data() + 4, BinarySize(outs.at(2)));
  std::vector<std::string> classes;
  for (size_t p = 0; p < cls.size();) {
    const uint32_t len = GetU32(cls, p);
    classes.emplace_back(cls.substr(p + 4, len));
    p += 4 + len;
  }
  ASSERT_EQ(classes.size(), 2u);
  // "score:index:label", the first one the answered label with its confidence.
  EXPECT_EQ(classes[0].substr(classes[0].rfind(':') + 1), label);
  EXPECT_NEAR(std::stod(classes[0]), conf, 1e-5);
}

TEST_F(OipBinaryTest, Fp32BinaryInputsToXgboostAndOnnx) {
  WriteXgboostModel(dir_.File("models/fraud/1"), "binary:logistic");
  std::filesystem::create_directories(dir_.File("models/add/1"));
  WriteAddModel(dir_.File("models/add/1/model.onnx"));
  WriteFile(dir_.File("models/add/1/config.toml"), "flavor = \"onnx\"\n");
  Start();
  // XGBoost: two rows of (amount, hour, foreign) as raw little-endian FP32.
  std::string seg;
  for (float f : {400.f, 3.f, 1.f, 12.f, 14.f, 0.f}) PutF32(seg, f);
  const std::string header =
      R"({"inputs":[{"name":"features","shape":[2,3],"datatype":"FP32","parameters":)"
      R"({"binary_data_size":24}}],"outputs":[{"name":"probabilities","parameters":)"
      R"({"binary_data":true}}]})";
  auto r = PostBinary(port_, "/v2/models/fraud/infer", header, seg);
  ASSERT_EQ(r.status, 200) << r.body;
  auto a = Split(r);
  ASSERT_EQ(a.data.size(), 16u);  // [2,2] FP32
  auto ref = XgboostReference(dir_.File("models/fraud/1/model.json"), {400, 3, 1, 12, 14, 0}, 2, 0);
  EXPECT_NEAR(GetF32(a.data, 4), ref[0], 1e-6);   // P(fraud) of row 0
  EXPECT_NEAR(GetF32(a.data, 12), ref[1], 1e-6);  // of row 1

  // ONNX with two inputs: A in binary, B in JSON (mixed), answered in JSON.
  std::string a_seg;
  for (float f : {1.f, 2.f, 3.f, -1.f, 0.5f, 8.f}) PutF32(a_seg, f);
  const std::string mixed =
      R"({"inputs":[{"name":"A","shape":[2,3],"datatype":"FP32","parameters":)"
      R"({"binary_data_size":24}},{"name":"B","shape":[2,3],"datatype":"FP32",)"
      R"("data":[10,20,30,40,50,60]}]})";
  auto m = PostBinary(port_, "/v2/models/add/infer", mixed, a_seg);
  ASSERT_EQ(m.status, 200) << m.body;
  auto j = ParseJson(m.body);
  const double want[] = {11, 22, 33, 39, 50.5, 68};
  for (size_t i = 0; i < 6; ++i) {
    double got = 0;
    ASSERT_FALSE(j->root["outputs"].at(0)["data"].at(i).get(got));
    EXPECT_DOUBLE_EQ(got, want[i]);
  }
  // The other way round: A in JSON, B binary; the binary output too.
  const std::string mixed2 =
      R"({"inputs":[{"name":"A","shape":[2,3],"datatype":"FP32","data":[10,20,30,40,50,60]},)"
      R"({"name":"B","shape":[2,3],"datatype":"FP32","parameters":{"binary_data_size":24}}],)"
      R"("parameters":{"binary_data_output":true}})";
  auto m2 = PostBinary(port_, "/v2/models/add/infer", mixed2, a_seg);
  ASSERT_EQ(m2.status, 200) << m2.body;
  auto a2 = Split(m2);
  ASSERT_EQ(a2.data.size(), 24u);
  for (size_t i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(GetF32(a2.data, 4 * i), want[i]);
}

TEST_F(OipBinaryTest, MalformedBinaryBodiesGet400WithTheReason) {
  WriteXgboostModel(dir_.File("models/fraud/1"), "binary:logistic");
  Start();
  std::string rows;
  for (float f : {1.f, 2.f, 3.f}) PutF32(rows, f);
  auto header = [](const std::string& shape, const std::string& type, const std::string& size) {
    return R"({"inputs":[{"name":"features","shape":)" + shape + R"(,"datatype":")" + type +
           R"(","parameters":{"binary_data_size":)" + size + "}}]}";
  };
  struct Case {
    std::string what, path, header, segments;
    std::string header_length;  // "" = the header's size
    std::string message;
  };
  const std::string fraud = "/v2/models/fraud/infer", text = "/v2/models/support-intent/infer";
  std::string bytes_past_end;
  PutU32(bytes_past_end, 100);
  bytes_past_end += "abc";
  std::vector<Case> cases = {
      {"header length past the body", fraud, header("[1,3]", "FP32", "12"), rows, "5000",
       "Inference-Header-Content-Length is 5000, past the end of the"},
      {"header length not a number", fraud, header("[1,3]", "FP32", "12"), rows, "12x",
       "Inference-Header-Content-Length"},
      {"segment shorter than its shape", fraud, header("[2,3]", "FP32", "12"), rows, "",
       "needs 24"},
      {"binary_data_size past the body", fraud, header("[1,3]", "FP32", "40"), rows, "",
       "past the end of the body"},
      {"bytes left over", fraud, header("[1,3]", "FP32", "12"), rows + "xyz", "",
       "belong to no input"},
      {"BYTES length prefix past the end", text,
       R"({"inputs":[{"name":"text","shape":[1],"datatype":"BYTES","parameters":)"
       R"({"binary_data_size":7}}]})",
       bytes_past_end, "", "past the end"},
      {"negative shape", fraud, header("[-1,3]", "FP32", "12"), rows, "", "shape"},
      {"overflowing shape", fraud, header("[4611686018427387904,4]", "FP32", "12"), rows, "",
       "too large"},
      {"datatype mismatch with the model", fraud, header("[1,3]", "FP64", "24"), rows + rows, "",
       "must be FP32, not FP64"},
      // FP16/BF16 (binary only) are decoded, then refused by an FP32 model as Triton does.
      {"FP16 to an FP32 model", fraud, header("[1,3]", "FP16", "6"),
       std::string("\x00\x3c\x00\xc1\x00\x40", 6), "", "must be FP32, not FP16"},
      {"BF16 to an FP32 model", fraud, header("[1,3]", "BF16", "6"),
       std::string("\x80\x3f\x40\x40\x00\x40", 6), "", "must be FP32, not BF16"},
      {"binary_data_size and data both", fraud,
       R"({"inputs":[{"name":"features","shape":[1,3],"datatype":"FP32","data":[1,2,3],)"
       R"("parameters":{"binary_data_size":12}}]})",
       rows, "", "binary_data_size"},
      {"binary data without the header field", fraud, header("[1,3]", "FP32", "12"), rows, "-",
       "Inference-Header-Content-Length"},
  };
  for (const Case& c : cases) {
    std::vector<std::pair<std::string, std::string>> headers = {
        {"Content-Type", "application/octet-stream"}};
    if (c.header_length != "-") {
      headers.emplace_back("Inference-Header-Content-Length", c.header_length.empty()
                                                                  ? std::to_string(c.header.size())
                                                                  : c.header_length);
    }
    auto r = Fetch(port_, "POST", c.path, c.header + c.segments, headers);
    EXPECT_EQ(r.status, 400) << c.what << ": " << r.body;
    auto j = ParseJson(r.body);
    ASSERT_TRUE(j) << c.what << ": " << r.body;
    EXPECT_NE(j->Str("error").find(c.message), std::string::npos) << c.what << ": " << r.body;
  }
  // Still up, and a good binary request right after is answered.
  auto ok = PostBinary(port_, fraud, header("[1,3]", "FP32", "12"), rows);
  EXPECT_EQ(ok.status, 200) << ok.body;
}

}  // namespace
}  // namespace closedloop::testing

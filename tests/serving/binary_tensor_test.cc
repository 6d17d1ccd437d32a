// The binary tensor data extension's decoding and encoding, every datatype, with
// the bytes written out by hand (little-endian) in the tests.
#include "serving/binary_tensor.h"

#include <gtest/gtest.h>

#include <cmath>

#include "serving/infer_request.h"

namespace closedloop {
namespace {

std::string Bytes(std::initializer_list<int> v) {
  std::string out;
  for (int b : v) out.push_back(static_cast<char>(b));
  return out;
}

Tensor Decode(DataType type, std::string_view segment, uint64_t count, Status* status = nullptr) {
  Tensor t{"x", type, {static_cast<int64_t>(count)}, {}};
  Status s = DecodeBinaryTensor(segment, count, "input 'x': ", 1 << 20, t);
  if (status != nullptr) {
    *status = s;
  } else {
    EXPECT_TRUE(s.ok()) << s.message();
  }
  return t;
}

TEST(BinaryTensorTest, DecodesEveryFixedWidthDatatypeLittleEndian) {
  EXPECT_EQ(*Decode(DataType::kBool, Bytes({1, 0, 1}), 3).As<uint8_t>(),
            (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_EQ(*Decode(DataType::kUint8, Bytes({0xff, 7}), 2).As<int64_t>(),
            (std::vector<int64_t>{255, 7}));
  EXPECT_EQ(*Decode(DataType::kInt8, Bytes({0xff, 0x80}), 2).As<int64_t>(),
            (std::vector<int64_t>{-1, -128}));
  EXPECT_EQ(*Decode(DataType::kUint16, Bytes({0x34, 0x12}), 1).As<int64_t>(),
            (std::vector<int64_t>{0x1234}));
  EXPECT_EQ(*Decode(DataType::kInt16, Bytes({0xfe, 0xff}), 1).As<int64_t>(),
            (std::vector<int64_t>{-2}));
  EXPECT_EQ(*Decode(DataType::kUint32, Bytes({0x78, 0x56, 0x34, 0x12}), 1).As<int64_t>(),
            (std::vector<int64_t>{0x12345678}));
  EXPECT_EQ(*Decode(DataType::kInt32, Bytes({0xff, 0xff, 0xff, 0xff}), 1).As<int64_t>(),
            (std::vector<int64_t>{-1}));
  EXPECT_EQ(*Decode(DataType::kInt64, Bytes({0, 0, 0, 0, 0, 0, 0, 0x80}), 1).As<int64_t>(),
            (std::vector<int64_t>{INT64_MIN}));
  EXPECT_EQ(*Decode(DataType::kUint64, Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), 1)
                 .As<uint64_t>(),
            (std::vector<uint64_t>{UINT64_MAX}));
  // 1.5f = 0x3fc00000, -2.0f = 0xc0000000.
  EXPECT_EQ(*Decode(DataType::kFp32, Bytes({0, 0, 0xc0, 0x3f, 0, 0, 0, 0xc0}), 2).As<float>(),
            (std::vector<float>{1.5f, -2.0f}));
  // 0.1 = 0x3fb999999999999a.
  EXPECT_EQ(*Decode(DataType::kFp64, Bytes({0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f}), 1)
                 .As<double>(),
            (std::vector<double>{0.1}));
  // FP16 1.0 = 0x3c00, -2.5 = 0xc100; BF16 1.0 = 0x3f80, 3.0 = 0x4040: raw bits kept.
  auto half = Decode(DataType::kFp16, Bytes({0x00, 0x3c, 0x00, 0xc1}), 2);
  EXPECT_EQ(*half.As<uint16_t>(), (std::vector<uint16_t>{0x3c00, 0xc100}));
  auto bf = Decode(DataType::kBf16, Bytes({0x80, 0x3f, 0x40, 0x40}), 2);
  EXPECT_EQ(*bf.As<uint16_t>(), (std::vector<uint16_t>{0x3f80, 0x4040}));
}

TEST(BinaryTensorTest, HalfAndBfloat16ConvertExactly) {
  EXPECT_EQ(HalfToFloat(0x3c00), 1.0f);
  EXPECT_EQ(HalfToFloat(0xc100), -2.5f);
  EXPECT_EQ(HalfToFloat(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(HalfToFloat(0x7bff), 65504.0f);               // largest finite
  EXPECT_TRUE(std::isinf(HalfToFloat(0x7c00)));
  EXPECT_TRUE(std::isnan(HalfToFloat(0x7e00)));
  EXPECT_EQ(HalfToFloat(0x8000), -0.0f);
  EXPECT_EQ(Bfloat16ToFloat(0x3f80), 1.0f);
  EXPECT_EQ(Bfloat16ToFloat(0x4040), 3.0f);
  EXPECT_EQ(Bfloat16ToFloat(0xc2f7), -123.5f);
}

TEST(BinaryTensorTest, BytesElementsAreLengthPrefixed) {
  const std::string seg = Bytes({2, 0, 0, 0}) + "hi" + Bytes({0, 0, 0, 0}) + Bytes({3, 0, 0, 0}) +
                          std::string("a\0b", 3);
  auto t = Decode(DataType::kBytes, seg, 3);
  EXPECT_EQ(*t.As<std::string>(), (std::vector<std::string>{"hi", "", std::string("a\0b", 3)}));
}

TEST(BinaryTensorTest, MalformedSegmentsAreErrorsNamingTheInput) {
  Status s;
  Decode(DataType::kFp32, Bytes({0, 0, 0x80}), 1, &s);  // 3 bytes for one FP32
  EXPECT_EQ(s.message(), "input 'x': shape [1] of FP32 needs 4 bytes but binary_data_size is 3");
  Decode(DataType::kInt16, Bytes({1, 0, 2, 0}), 3, &s);
  EXPECT_NE(s.message().find("needs 6 bytes"), std::string::npos) << s.message();
  Decode(DataType::kBool, Bytes({2}), 1, &s);
  EXPECT_NE(s.message().find("BOOL element 0"), std::string::npos) << s.message();
  Decode(DataType::kBytes, Bytes({9, 0, 0, 0}) + "abc", 1, &s);
  EXPECT_NE(s.message().find("BYTES element 0 has length 9, past the end"), std::string::npos)
      << s.message();
  Decode(DataType::kBytes, Bytes({2, 0, 0, 0}) + "ab" + Bytes({1, 0}), 2, &s);
  EXPECT_NE(s.message().find("BYTES element 1: its 4-byte length prefix is past the end"),
            std::string::npos)
      << s.message();
  Decode(DataType::kBytes, Bytes({1, 0, 0, 0}) + "ab", 1, &s);  // a byte left over
  EXPECT_NE(s.message().find("take 5"), std::string::npos) << s.message();
  Decode(DataType::kBytes, Bytes({0xff, 0xff, 0xff, 0xff}), 1, &s);  // 4 GiB length
  EXPECT_FALSE(s.ok());
  Decode(DataType::kBytes, Bytes({0, 0, 0, 0}), 1000000, &s);  // count beyond the bytes
  EXPECT_NE(s.message().find("needs 1000000 BYTES elements"), std::string::npos) << s.message();
  Decode(DataType::kBytes, Bytes({1, 0, 0, 0}) + "a" + Bytes({1, 0}), 2, &s);  // < 4 per element
  EXPECT_NE(s.message().find("at least 8 bytes"), std::string::npos) << s.message();
}

TEST(BinaryTensorTest, EncodingRoundTripsThroughDecoding) {
  Tensor f{"y", DataType::kFp32, {2}, std::vector<float>{1.5f, -2.0f}};
  std::string out;
  AppendBinaryTensor(f, out);
  EXPECT_EQ(out, Bytes({0, 0, 0xc0, 0x3f, 0, 0, 0, 0xc0}));
  EXPECT_EQ(BinaryTensorSize(f), 8u);
  Tensor b{"l", DataType::kBytes, {2}, std::vector<std::string>{"ab", ""}};
  out.clear();
  AppendBinaryTensor(b, out);
  EXPECT_EQ(out, Bytes({2, 0, 0, 0}) + "ab" + Bytes({0, 0, 0, 0}));
  EXPECT_EQ(BinaryTensorSize(b), out.size());
  Tensor i{"i", DataType::kInt16, {2}, std::vector<int64_t>{-2, 300}};
  out.clear();
  AppendBinaryTensor(i, out);
  EXPECT_EQ(out, Bytes({0xfe, 0xff, 0x2c, 0x01}));
}

// The request parser with binary data after the JSON header.
std::string Request(const std::string& inputs, const std::string& rest = "") {
  return R"({"inputs":[)" + inputs + "]" + rest + "}";
}

TEST(BinaryInferRequestTest, InputsTakeTheirSegmentsInOrderMixedWithJson) {
  const std::string header =
      Request(R"({"name":"a","shape":[2],"datatype":"INT32","parameters":{"binary_data_size":8}},)"
              R"({"name":"b","shape":[1],"datatype":"FP32","data":[0.5]},)"
              R"({"name":"c","shape":[1],"datatype":"BYTES","parameters":{"binary_data_size":6}})",
              R"(,"parameters":{"binary_data_output":true},)"
              R"("outputs":[{"name":"o","parameters":{"binary_data":false}},{"name":"p"}])");
  const std::string body =
      header + Bytes({1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}) + Bytes({2, 0, 0, 0}) + "ok";
  auto r = ParseInferRequest(body, {}, header.size());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->has_binary_inputs);
  EXPECT_TRUE(r->binary_data_output);
  EXPECT_EQ(*r->inputs[0].As<int64_t>(), (std::vector<int64_t>{1, -1}));
  EXPECT_EQ(*r->inputs[1].As<float>(), (std::vector<float>{0.5f}));
  EXPECT_EQ(*r->inputs[2].As<std::string>(), (std::vector<std::string>{"ok"}));
  ASSERT_EQ(r->outputs.size(), 2u);
  EXPECT_EQ(r->outputs[0].binary, std::optional<bool>(false));
  EXPECT_EQ(r->outputs[1].binary, std::nullopt);
}

std::string BinaryError(const std::string& header, const std::string& tail,
                        std::optional<uint64_t> length) {
  auto r = ParseInferRequest(header + tail, {}, length);
  EXPECT_FALSE(r.ok()) << header;
  return r.ok() ? "" : r.status().message();
}

TEST(BinaryInferRequestTest, EveryMalformedBinaryBodyIsAnError) {
  const std::string h =
      Request(R"({"name":"a","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}})");
  const std::string eight(8, '\0');
  EXPECT_NE(BinaryError(h, eight, h.size() + 9).find("past the end of the"), std::string::npos);
  EXPECT_NE(BinaryError(h, eight.substr(0, 4), h.size()).find("goes past the end of the body"),
            std::string::npos);
  EXPECT_NE(BinaryError(h, eight + "x", h.size())
                .find("1 bytes after the JSON header belong to no input"),
            std::string::npos);
  EXPECT_NE(BinaryError(h, "", std::nullopt).find("Inference-Header-Content-Length"),
            std::string::npos);
  EXPECT_NE(BinaryError(h, eight, 5).find("malformed JSON"), std::string::npos);
  const std::string wrong =
      Request(R"({"name":"a","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":6}})");
  EXPECT_NE(BinaryError(wrong, eight.substr(0, 6), wrong.size()).find("needs 8 bytes"),
            std::string::npos);
  const std::string both = Request(
      R"({"name":"a","shape":[1],"datatype":"FP32","data":[1],"parameters":{"binary_data_size":4}})");
  EXPECT_NE(BinaryError(both, eight.substr(0, 4), both.size()).find("has both"), std::string::npos);
  const std::string negative =
      Request(R"({"name":"a","shape":[1],"datatype":"FP32","parameters":{"binary_data_size":-4}})");
  EXPECT_NE(BinaryError(negative, "", negative.size()).find("non-negative"), std::string::npos);
  const std::string half = Request(R"({"name":"a","shape":[1],"datatype":"FP16","data":[1.0]})");
  EXPECT_NE(BinaryError(half, "", std::nullopt).find("FP16 has no JSON form"), std::string::npos);
  const std::string output = Request(R"({"name":"a","shape":[1],"datatype":"FP32","data":[1]})",
                                     R"(,"outputs":[{"name":"o","parameters":{"binary_data":1}}])");
  EXPECT_NE(BinaryError(output, "", std::nullopt).find("'binary_data' must be a boolean"),
            std::string::npos);
  EXPECT_NE(ParseHeaderLength("-3").status().message().find("byte count"), std::string::npos);
  EXPECT_EQ(*ParseHeaderLength("17"), 17u);
}

}  // namespace
}  // namespace closedloop

#include "serving/infer_request.h"

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace closedloop {
namespace {

std::string Fixture(const std::string& name) {
  return testing::ReadFile(std::string(CLOSEDLOOP_SOURCE_DIR) + "/tests/fixtures/oip/" + name);
}

std::string Error(const std::string& body) {
  auto r = ParseInferRequest(body);
  EXPECT_FALSE(r.ok()) << body;
  return r.ok() ? "" : r.status().message();
}

std::string One(const std::string& input) { return R"({"inputs":[)" + input + "]}"; }

TEST(InferRequestTest, SpecExampleParsesUpToItsOwnShapeMismatch) {
  // The protocol document's example declares input1 as shape [3] with one element.
  EXPECT_EQ(Error(Fixture("spec_example_request.json")),
            "input 'input1': shape [3] has 3 elements but 'data' has 1");
  // With that fixed, everything in it is understood.
  std::string fixed = Fixture("spec_example_request.json");
  fixed.replace(fixed.find("[ true ]"), 8, "[ true, false, true ]");
  auto r = ParseInferRequest(fixed);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->id, "42");
  ASSERT_EQ(r->inputs.size(), 2u);
  EXPECT_EQ(r->inputs[0].datatype, DataType::kUint32);
  EXPECT_EQ(r->inputs[0].shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(*r->inputs[0].As<int64_t>(), (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(*r->inputs[1].As<uint8_t>(), (std::vector<uint8_t>{1, 0, 1}));
  ASSERT_EQ(r->outputs.size(), 1u);
  EXPECT_EQ(r->outputs[0].name, "output0");
}

TEST(InferRequestTest, DatatypesAndNestedData) {
  auto r = ParseInferRequest(R"({"inputs":[
    {"name":"a","shape":[2,2],"datatype":"FP32","data":[[1,2.5],[3,-4e-3]]},
    {"name":"b","shape":[2],"datatype":"FP64","data":[1e300,-2]},
    {"name":"c","shape":[3],"datatype":"INT64","data":[-9223372036854775808,0,9223372036854775807]},
    {"name":"d","shape":[1],"datatype":"INT32","data":[-2147483648]},
    {"name":"e","shape":[2],"datatype":"BYTES","data":["héllo",""]},
    {"name":"f","shape":[1],"datatype":"UINT64","data":[18446744073709551615]}],
    "outputs":[{"name":"probabilities","parameters":{"classification":3}}]})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r->inputs[0].As<float>(), (std::vector<float>{1, 2.5f, 3, -4e-3f}));
  EXPECT_EQ(*r->inputs[1].As<double>(), (std::vector<double>{1e300, -2}));
  EXPECT_EQ(r->inputs[2].As<int64_t>()->front(), INT64_MIN);
  EXPECT_EQ(r->inputs[4].As<std::string>()->front(), "héllo");
  EXPECT_EQ(r->inputs[5].As<uint64_t>()->front(), UINT64_MAX);
  EXPECT_EQ(r->outputs[0].classification, 3);
}

TEST(InferRequestTest, BadInputGetsErrorsNamingInputAndField) {
  EXPECT_NE(Error("{").find("malformed JSON"), std::string::npos);
  EXPECT_EQ(Error("[]"), "request body must be a JSON object");
  EXPECT_EQ(Error(R"({"inputs":[]})"), "field 'inputs' must not be empty");
  EXPECT_EQ(Error(R"({"inputs":{}})"), "field 'inputs' must be an array");
  EXPECT_EQ(Error(R"({"id":5,"inputs":[]})"), "field 'id' must be a string");
  // Wrong datatype name and wrong value types.
  EXPECT_NE(Error(One(R"({"name":"x","shape":[1],"datatype":"FP8","data":[1]})"))
                .find("unsupported datatype 'FP8'"),
            std::string::npos);
  EXPECT_EQ(Error(One(R"({"name":"x","shape":[1],"datatype":"FP32","data":["1"]})")),
            "input 'x': 'data' holds a value that is not a number (datatype FP32)");
  EXPECT_EQ(Error(One(R"({"name":"x","shape":[1],"datatype":"INT32","data":[1.5]})")),
            "input 'x': 'data' holds a value that is not an integer (datatype INT32)");
  EXPECT_EQ(Error(One(R"({"name":"x","shape":[1],"datatype":"BOOL","data":[1]})")),
            "input 'x': 'data' holds a value that is not a boolean (datatype BOOL)");
  EXPECT_EQ(Error(One(R"({"name":"x","shape":[1],"datatype":"INT8","data":[128]})")),
            "input 'x': 'data' holds 128, out of range for INT8");
  // Shape/data mismatch, both ways, and nesting deeper than the shape.
  EXPECT_EQ(Error(One(R"({"name":"x","shape":[2,2],"datatype":"FP32","data":[1,2,3]})")),
            "input 'x': shape [2,2] has 4 elements but 'data' has 3");
  EXPECT_EQ(Error(One(R"({"name":"x","shape":[1],"datatype":"FP32","data":[1,2]})")),
            "input 'x': shape [1] has 1 elements but 'data' has 2");
  EXPECT_EQ(Error(One(R"({"name":"x","shape":[2],"datatype":"FP32","data":[[1],[2]]})")),
            "input 'x': 'data' is nested deeper than the shape");
  EXPECT_EQ(Error(One(R"({"name":"x","shape":[-1],"datatype":"FP32","data":[1]})")),
            "input 'x': 'shape' must hold non-negative integers");
  EXPECT_EQ(Error(One(R"({"name":"x","shape":[1],"datatype":"FP32"})")),
            "input 'x': 'data' is missing");
  EXPECT_EQ(Error(One(R"({"shape":[1],"datatype":"FP32","data":[1]})")),
            "inputs[0]: 'name' must be a non-empty string");
  EXPECT_EQ(Error(One(R"({"name":"x","shape":[1],"datatype":"FP32","data":[1],"dtype":1})")),
            "inputs[0]: unknown field 'dtype'");
  EXPECT_EQ(Error(R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]},)"
                  R"({"name":"x","shape":[1],"datatype":"FP32","data":[1]}]})"),
            "input 'x' given twice");
  EXPECT_EQ(Error(One(R"({"name":"x","shape":[1],"datatype":"FP32","data":[1]})")
                      .replace(0, 1, R"({"outputs":[{"name":""}],)")),
            "outputs[0]: 'name' must be a non-empty string");
}

TEST(InferRequestTest, NanInfAndOutOfRangeFloatsAreRejected) {
  // JSON has no NaN/Inf literals: they are malformed JSON, and strings are not numbers.
  EXPECT_NE(Error(One(R"({"name":"x","shape":[1],"datatype":"FP32","data":[NaN]})"))
                .find("malformed JSON"),
            std::string::npos);
  EXPECT_NE(Error(One(R"({"name":"x","shape":[1],"datatype":"FP64","data":[Infinity]})"))
                .find("malformed JSON"),
            std::string::npos);
  EXPECT_NE(Error(One(R"({"name":"x","shape":[1],"datatype":"FP32","data":["NaN"]})"))
                .find("not a number"),
            std::string::npos);
  EXPECT_NE(Error(One(R"({"name":"x","shape":[1],"datatype":"FP32","data":[1e39]})"))
                .find("out of range for FP32"),
            std::string::npos);
}

TEST(InferRequestTest, HugeShapesAreRejectedBeforeAllocating) {
  // 6.4e28 FP64 elements: reserving them would throw bad_alloc; an error comes back instead.
  EXPECT_NE(Error(One(R"({"name":"x","shape":[4000000000,4000000000,4000000000],)"
                      R"("datatype":"FP64","data":[1]})"))
                .find("is too large"),
            std::string::npos);
  EXPECT_NE(Error(One(R"({"name":"x","shape":[100000],"datatype":"FP64","data":[1]})"))
                .find("shape [100000] is too large"),
            std::string::npos);  // more elements than the body has bytes
  EXPECT_NE(Error(One(R"({"name":"x","shape":[1,1,1,1,1,1,1,1,1],"datatype":"FP64","data":[1]})"))
                .find("9 dimensions"),
            std::string::npos);
}

TEST(InferRequestTest, DeepNestingAndInvalidUtf8) {
  std::string deep(3000, '[');
  deep += "1" + std::string(3000, ']');
  EXPECT_NE(Error(One(R"({"name":"x","shape":[1],"datatype":"FP32","data":)" + deep + "}"))
                .find("malformed JSON"),
            std::string::npos);  // simdjson's depth limit
  std::string nested8 = "[[[[[[[[1]]]]]]]]";
  EXPECT_EQ(Error(One(R"({"name":"x","shape":[1,1],"datatype":"FP32","data":)" + nested8 + "}")),
            "input 'x': 'data' is nested deeper than the shape");
  EXPECT_NE(
      Error(One("{\"name\":\"x\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\"\xc3\x28\"]}"))
          .find("malformed JSON"),
      std::string::npos);
}

}  // namespace
}  // namespace closedloop

// The cost of reading a 224x224x3 image sent as a JSON array (150,528 numbers,
// as the image inference load test sends it), apart from the model: simdjson's
// parse of the body alone, closedloop's whole /v1/predict request parser
// (ParsePredictRequest: parse, flatten, FP32 and finiteness checks), and that plus
// the preprocessing into the model's normalized NCHW input (PrepareImageArray).
// The peer figure, Node.js JSON.parse of the same body, is measured by
// bench/image_bench.sh.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <random>
#include <string>

#include "serving/image_input.h"
#include "serving/predict_request.h"

namespace closedloop {
namespace {

const std::string& Body() {
  static const std::string body = [] {
    std::mt19937 rng(5);
    std::uniform_int_distribution<int> px(0, 255);
    std::string s = R"({"model":"cnn","image":[)";
    for (int y = 0; y < 224; ++y) {
      s += y ? ",[" : "[";
      for (int x = 0; x < 224; ++x) {
        s += x ? ",[" : "[";
        s += std::to_string(px(rng)) + "," + std::to_string(px(rng)) + "," +
             std::to_string(px(rng)) + "]";
      }
      s += "]";
    }
    return s + "]}";
  }();
  return body;
}

void BM_SimdjsonParseOnly(benchmark::State& state) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(Body());
  for (auto _ : state) {
    simdjson::dom::element doc;
    if (parser.parse(padded).get(doc)) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(doc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * Body().size()));
}
BENCHMARK(BM_SimdjsonParseOnly)->Unit(benchmark::kMicrosecond);

void BM_ParsePredictRequest(benchmark::State& state) {
  for (auto _ : state) {
    auto r = ParsePredictRequest(Body(), 10000);
    if (!r.ok() || r->image.size() != 150528) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * Body().size()));
}
BENCHMARK(BM_ParsePredictRequest)->Unit(benchmark::kMicrosecond);

void BM_ParseAndPreprocess(benchmark::State& state) {
  ImageConfig c;
  c.width = c.height = 224;
  c.mean = {0.485, 0.456, 0.406};
  c.std = {0.229, 0.224, 0.225};
  c.thumbnail_px = 32;
  for (auto _ : state) {
    auto r = ParsePredictRequest(Body(), 10000);
    auto p = PrepareImageArray(r->image, r->image_dims, c);
    if (!p.ok()) state.SkipWithError("preprocess failed");
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_ParseAndPreprocess)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace closedloop

BENCHMARK_MAIN();

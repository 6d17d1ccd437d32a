// ImageConfig: the [image] table of a model's config.toml, which makes the model
// an image model and says how a request's image becomes its input tensor:
//
//   [image]
//   width = 224                 # the model's input size, pixels (required)
//   height = 224
//   channels = 3                # 1 (grey) or 3
//   layout = "nchw"             # the model input tensor: "nchw" or "nhwc"
//   json_layout = "hwc"         # a JSON "image" array: [H][W][C] ("hwc") or [C][H][W] ("chw")
//   channel_order = "rgb"       # 3 channels: "rgb" or "bgr" (decoded images are converted)
//   scale = 0.00392156862745098 # x = pixel * scale (1/255: 8-bit pixels to [0, 1]) ...
//   mean = [0.485, 0.456, 0.406]  # ... then (x - mean[c]) / std[c], per channel
//   std = [0.229, 0.224, 0.225]
//   input = "image"             # the input tensor's name ("": the model's first input)
//   output = "probabilities"    # the class scores ("": "probabilities", else the first output)
//   softmax = false             # true: the output holds logits; softmax them
//   embedding_output = ""       # an output with penultimate-layer activations (drift)
//   max_pixels = 40000000       # encoded images with more pixels are refused (413)
//   thumbnail_px = 32           # longest side of the thumbnail logged with a prediction; 0: none
//
// Both kinds of image input get the same arithmetic: a JSON array must already be
// width x height (it is not resized); an encoded PNG/JPEG is decoded and resized.
// A value type.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace closedloop {

struct ImageConfig {
  int width = 0;
  int height = 0;
  int channels = 3;
  std::string layout = "nchw";
  std::string json_layout = "hwc";
  std::string channel_order = "rgb";
  double scale = 1.0 / 255.0;
  std::vector<double> mean;  // empty: 0 per channel
  std::vector<double> std;   // empty: 1 per channel
  std::string input;
  std::string output;
  bool softmax = false;
  std::string embedding_output;
  int64_t max_pixels = 40'000'000;
  int thumbnail_px = 32;
};

}  // namespace closedloop

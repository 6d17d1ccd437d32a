// Image inputs of image models (a model whose config.toml has an [image] table,
// serving/image_config.h): from a request's JSON array or encoded PNG/JPEG to the
// model's input values, plus what the prediction log keeps of the image.
//
//   JSON array: must have the model's size, as [H][W][C] or [C][H][W] (the
//     config's json_layout; [H][W] for one channel); not resized.
//   PNG/JPEG: the header's size is checked against max_pixels before anything
//     is decoded (so a 100-megapixel file costs no memory), then it is decoded by
//     OpenCV imgcodecs (grey or colour as the model wants, converted to its
//     channel order) and resized to width x height (area averaging when shrinking).
//   Both: x = pixel * scale, stats (brightness = mean x, contrast = its standard
//     deviation), then (x - mean[c]) / std[c], written in the model's layout.
//
// Errors: InvalidArgument naming the field and the expected shape, PayloadTooLarge
// (413) for too many pixels. Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "serving/image_config.h"

namespace closedloop {

struct ImageStats {
  double brightness = 0;  // mean of the scaled pixels (in [0, 1] for 8-bit pixels, scale 1/255)
  double contrast = 0;    // their standard deviation
};

struct PreparedImage {
  std::vector<float> values;  // one image's model input, channels * height * width, in layout
  ImageStats stats;
  std::string sha256;  // of the encoded file, or of a JSON array's values as FP32 bytes
  std::string format;  // "png", "jpeg" or "array"
  int source_width = 0, source_height = 0;
  std::string thumbnail_png;  // a PNG of at most thumbnail_px on its longer side; "" if off
};

struct ImageSize {
  int64_t width = 0, height = 0;
  std::string format;  // "png" or "jpeg"
};

// The model input's shape for `batch` images: [N, C, H, W] or [N, H, W, C].
std::vector<int64_t> ImageTensorShape(const ImageConfig& c, int64_t batch);
// The JSON array shape a model wants, e.g. "[224][224][3] ([H][W][C])".
std::string ExpectedImageShape(const ImageConfig& c);

// Reads the width and height from a PNG (IHDR) or JPEG (SOFn) header without
// decoding. InvalidArgument for anything else or a truncated header.
StatusOr<ImageSize> EncodedImageSize(std::string_view bytes);

StatusOr<PreparedImage> PrepareImageArray(const std::vector<float>& values,
                                          const std::vector<int64_t>& dims, const ImageConfig& c);
// `field` names the input in errors ("image_b64", or an OIP input's name).
StatusOr<PreparedImage> PrepareEncodedImage(std::string_view bytes, const ImageConfig& c,
                                            std::string_view field = "image_b64");

// InvalidArgument naming `field` and the element when a value is NaN or infinite.
Status CheckFiniteImageValues(const float* values, size_t count, std::string_view field);

// Describes one row of an already normalized input tensor (an OIP FP32 input) for
// the log: its hash, its statistics and thumbnail from the values with the
// normalization undone (x = v * std[c] + mean[c]). `values` holds one image in
// the model's layout; `values` of the result is left empty.
PreparedImage DescribeImageTensorRow(const float* values, const ImageConfig& c);

// What the prediction log keeps as the input of an image prediction:
//   {"image": {"format", "width", "height", "sha256", "thumbnail_png"? (base64)},
//    "brightness": x, "contrast": y, "embedding"?: [..]}
// brightness and contrast are top-level numbers so drift tests them like features.
std::string ImageRecordJson(const PreparedImage& p, const std::vector<float>* embedding);

// The "embedding" of a logged image record (ImageRecordJson); NotFound when the
// record has none, InvalidArgument when `record` is not one.
StatusOr<std::vector<float>> LoggedImageEmbedding(std::string_view record);

}  // namespace closedloop

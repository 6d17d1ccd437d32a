// `closedloop train image`: an image classifier trained from pixels, exported to
// ONNX (serving/onnx_export.h, ExportImageMlpToOnnx) and served by the ONNX backend
// with an [image] config (serving/image_config.h), so it takes JSON pixel arrays
// and PNG/JPEG files.
//
// Data: a CSV of pixel rows (one image per row, row-major [H][W][C] values; the
// label is the --label-col column when the file has a header, else the last
// column, as in the 8x8 digits file Debian's python3-sklearn ships; .gz is read
// directly), or a folder with one sub-folder of PNG/JPEG files per label. CSV
// pixels are rescaled from [0, pixel_max] to [0, 255], so the served model takes
// 8-bit pixels like an encoded image.
//
// Model: one hidden ReLU layer over the standardized pixels (per-channel mean and
// standard deviation of the training split, written to the [image] config), softmax
// output, trained with Adam on mini-batches of the training split; the epoch with
// the best validation accuracy is kept. A stratified test split is only evaluated.
//
// Writes into the output directory: model.onnx, config.toml, reference_profile.json
// (confidence, labels, brightness and contrast samples, penultimate-layer
// embeddings) and metrics.json. Deterministic for a seed. Not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "learn/evaluation.h"

namespace closedloop {

struct ImageTrainOptions {
  std::string input;  // CSV file (.csv, .csv.gz) or a folder of label folders
  std::string output_dir;
  bool overwrite = false;
  std::string label_col = "label";
  int width = 0, height = 0;  // 0: CSV square images of sqrt(pixels / channels)
  int channels = 1;
  double pixel_max = 255;  // CSV: the value of a white pixel (16 for the digits file)
  int hidden = 128;
  int epochs = 60;
  int batch_size = 32;
  double learning_rate = 0.002;
  double weight_decay = 1e-4;
  double validation_fraction = 0.15;
  double test_fraction = 0.2;
  int seed = 1;
  int thumbnail_px = 32;
};

struct ImageTrainResult {
  std::string model_path;  // final path of model.onnx
  int64_t model_bytes = 0;
  std::vector<std::string> labels;
  int width = 0, height = 0, channels = 0;
  size_t train_rows = 0;
  int best_epoch = 0;
  double train_seconds = 0;
  std::vector<std::pair<int, double>> train_loss;           // per epoch
  std::vector<std::pair<int, double>> validation_accuracy;  // per epoch
  EvaluationReport validation;
  std::optional<EvaluationReport> test;
  std::string data_sha256;
};

StatusOr<ImageTrainResult> TrainImageClassifier(const ImageTrainOptions& o);

}  // namespace closedloop

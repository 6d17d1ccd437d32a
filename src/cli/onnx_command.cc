#include <iostream>

#include "cli/commands.h"
#include "serving/onnx_check.h"

namespace closedloop {

void AddOnnxCommand(CLI::App& app, int& exit_code) {
  CLI::App* onnx = app.add_subcommand("onnx", "ONNX model tools");
  onnx->require_subcommand(1);
  auto path = std::make_shared<std::string>();
  CLI::App* check = onnx->add_subcommand(
      "check",
      "Can this ONNX model run here? Lists operators OpenCV DNN cannot run; exit 1 if not");
  check->add_option("MODEL", *path, "model.onnx")->required();
  check->callback([path, &exit_code] {
    OnnxCheckReport report = CheckOnnxModel(*path);
    std::cout << FormatOnnxCheck(*path, report);
    exit_code = report.supported ? 0 : 1;
  });
}

}  // namespace closedloop

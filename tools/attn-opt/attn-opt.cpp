//===- attn-opt.cpp - mlir-opt for the attn dialect and attngen passes ----===//

#include "attngen/Backend/Cpu/CpuPipeline.h"
#include "attngen/Backend/Gpu/GpuPipeline.h"
#include "attngen/InitAllDialects.h"
#include "attngen/InitAllPasses.h"

#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  attngen::registerAllDialects(registry);
  attngen::registerGpuCodegenExtensions(registry);
  attngen::registerAllPasses();
  attngen::registerCpuLoweringPipeline();
  attngen::registerGpuLoweringPipeline();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "attngen optimizer driver\n", registry));
}

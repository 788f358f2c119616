//===- Compile.cpp - `attngen compile` ------------------------------------===//

#include "attngen/Driver/Compile.h"
#include "attngen/InitAllDialects.h"
#include "attngen/Spec/SpecParser.h"
#include "attngen/Spec/SpecToIR.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;

namespace attngen {

/// Collects MLIR diagnostics as one-line `LOCATION: error: MESSAGE` strings so
/// that a compile failure is reported as an llvm::Error like the rest.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(MLIRContext &context)
      : handler(&context, [this](Diagnostic &diagnostic) {
          if (diagnostic.getSeverity() != DiagnosticSeverity::Error)
            return success();
          std::string line;
          llvm::raw_string_ostream os(line);
          os << diagnostic.getLocation() << ": error: " << diagnostic;
          messages.push_back(std::move(line));
          return success();
        }) {}

  llvm::Error takeError(llvm::StringRef fallback) {
    std::string joined = messages.empty() ? fallback.str() : messages.front();
    return llvm::createStringError(llvm::inconvertibleErrorCode(), joined);
  }

private:
  std::vector<std::string> messages;
  ScopedDiagnosticHandler handler;
};

llvm::Error compileSpec(const CompileOptions &options) {
  llvm::Expected<AttentionSpec> spec = parseSpecFile(options.specPath);
  if (!spec)
    return spec.takeError();
  if (!options.emit)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "attngen compile: kernel packages are not implemented yet; pass "
        "--emit spec-ir");

  DialectRegistry registry;
  registerAllDialects(registry);
  MLIRContext context(registry);
  DiagnosticCollector diagnostics(context);

  Location location =
      FileLineColLoc::get(&context, options.specPath, /*line=*/1, /*col=*/1);
  OwningOpRef<ModuleOp> module = buildAttentionModule(
      *spec, context, location, options.target.value_or(spec->target));
  if (failed(verify(*module)))
    return diagnostics.takeError(options.specPath +
                                 ": error: the built IR does not verify");

  std::string errorMessage;
  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(options.outputPath, &errorMessage);
  if (!output)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   options.outputPath +
                                       ": cannot write output: " +
                                       errorMessage);
  module->print(output->os());
  output->os() << "\n";
  output->os().flush();
  if (output->os().has_error())
    return llvm::createStringError(
        output->os().error(),
        options.outputPath + ": cannot write output: " +
            output->os().error().message());
  output->keep();
  return llvm::Error::success();
}

} // namespace attngen

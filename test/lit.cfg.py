# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "attngen"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.attngen_obj_root, "test")

config.substitutions.append(("%specs", os.path.join(config.attngen_src_root, "specs")))
config.environment["FILECHECK_OPTS"] = "--enable-var-scope"
config.substitutions.append(("%attnrt_lib", os.path.join(config.attngen_obj_root, "runtime", "libattnrt.so")))

llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.attngen_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(["attngen", "attn-opt"], [config.attngen_tools_dir])

# ptxas (CUDA toolkit) checks the GPU kernels where it is installed.
import shutil
ptxas = shutil.which("ptxas") or ("/usr/local/cuda/bin/ptxas" if os.path.exists("/usr/local/cuda/bin/ptxas") else None)
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))

# The recording mock of libcuda.so.1 (unittests/Runtime/MockCudaDriver.cpp):
# ATTNRT_CUDA_DRIVER=%mockcuda runs attngen's CUDA plumbing without a GPU.
config.substitutions.append(("%mockcuda", os.path.join(config.attngen_obj_root, "unittests", "libAttnMockCuda.so")))

# A usable CUDA device, as libattnrt sees it: enables the `REQUIRES: cuda`
# suites (numerics on the GPU). Never required for CI.
def _cuda_available():
    import ctypes
    try:
        runtime = ctypes.CDLL(os.path.join(config.attngen_obj_root, "runtime", "libattnrt.so"))
        return runtime.attnrt_cuda_available() == 0
    except OSError:
        return False
if _cuda_available():
    config.available_features.add("cuda")

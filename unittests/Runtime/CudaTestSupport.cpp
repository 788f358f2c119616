//===- CudaTestSupport.cpp - libattnrt's CUDA tests on a mock driver ------===//

#include "CudaTestSupport.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>

namespace attnrt_test {

// Before any libattnrt call loads the driver.
const bool kUsesMockDriver =
    setenv("ATTNRT_CUDA_DRIVER", MOCK_CUDA_DRIVER, /*overwrite=*/1) == 0;

MockCudaState &mock() {
  static MockCudaState *state = [] {
    attnrt_cuda_available(); // loads the driver
    void *library = dlopen(MOCK_CUDA_DRIVER, RTLD_NOW | RTLD_NOLOAD);
    EXPECT_NE(library, nullptr) << "libattnrt did not load the mock driver";
    return reinterpret_cast<MockCudaStateFn>(
        dlsym(library, "mockcuda_state"))();
  }();
  return *state;
}

void setContext(unsigned long long id) {
  mock();
  void *library = dlopen(MOCK_CUDA_DRIVER, RTLD_NOW | RTLD_NOLOAD);
  reinterpret_cast<void (*)(unsigned long long)>(
      dlsym(library, "mockcuda_set_context"))(id);
}

size_t expectMemref(const std::vector<uint64_t> &params, size_t at,
                    const void *pointer, std::vector<int64_t> sizes,
                    const char *name) {
  SCOPED_TRACE(name);
  EXPECT_EQ(params[at], reinterpret_cast<uintptr_t>(pointer));     // allocated
  EXPECT_EQ(params[at + 1], reinterpret_cast<uintptr_t>(pointer)); // aligned
  EXPECT_EQ(params[at + 2], 0u);                                   // offset
  size_t rank = sizes.size();
  int64_t stride = 1;
  for (size_t i = rank; i-- > 0;) {
    EXPECT_EQ(int64_t(params[at + 3 + i]), sizes[i]) << "size " << i;
    EXPECT_EQ(int64_t(params[at + 3 + rank + i]), stride) << "stride " << i;
    stride *= sizes[i];
  }
  return at + 3 + 2 * rank;
}

fs::path withEditedFile(const std::string &name, const std::string &tag,
                        const char *file, std::string (*edit)(std::string)) {
  fs::path dir = fs::temp_directory_path() /
                 ("attnrt_cuda_test_" + tag + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::copy(packagePath(name), dir);
  writeText(dir / file, edit(readText(dir / file)));
  removeDigest(dir);
  return dir;
}

} // namespace attnrt_test

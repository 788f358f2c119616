//===- attnrt.hpp - C++ RAII wrapper over the libattnrt C API ---*- C++ -*-===//

#ifndef ATTNRT_ATTNRT_HPP
#define ATTNRT_ATTNRT_HPP

#include "attnrt/attnrt.h"

#include <memory>
#include <string>
#include <utility>

namespace attnrt {

/// A status with the message attnrt_last_error() gave when it was made.
class Status {
public:
  Status(attnrt_status code = ATTNRT_OK)
      : code_(code), message_(code == ATTNRT_OK ? "" : attnrt_last_error()) {}
  bool ok() const { return code_ == ATTNRT_OK; }
  explicit operator bool() const { return ok(); }
  attnrt_status code() const { return code_; }
  const std::string &message() const { return message_; }

private:
  attnrt_status code_;
  std::string message_;
};

/// A loaded package; movable, released on destruction.
class Kernel {
public:
  static std::pair<Status, Kernel> load(const std::string &packageDir) {
    attnrt_kernel *raw = nullptr;
    Status status = attnrt_kernel_load(packageDir.c_str(), &raw);
    return {status, Kernel(raw)};
  }
  Kernel() = default;
  explicit operator bool() const { return handle_ != nullptr; }
  attnrt_kernel *get() const { return handle_.get(); }

  Status info(attnrt_kernel_info &out) const {
    return attnrt_kernel_get_info(handle_.get(), &out);
  }
  Status runCpu(const attnrt_attention_args &args, int numThreads = 0) const {
    return attnrt_run_cpu(handle_.get(), &args, numThreads);
  }
  /// `stream` is a CUstream / cudaStream_t (nullptr: the default stream).
  Status runCuda(const attnrt_attention_args &args,
                 void *stream = nullptr) const {
    return attnrt_run_cuda(handle_.get(), &args, stream);
  }

private:
  struct Release {
    void operator()(attnrt_kernel *k) const { attnrt_kernel_release(k); }
  };
  explicit Kernel(attnrt_kernel *raw) : handle_(raw) {}
  std::unique_ptr<attnrt_kernel, Release> handle_;
};

} // namespace attnrt

#endif // ATTNRT_ATTNRT_HPP

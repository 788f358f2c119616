//===- PackageLoadTest.cpp - libattnrt refuses broken packages ------------===//
//
// Copies of good packages with one file edited: each load fails with its
// status and a message naming the file and the field, and leaves no kernel.
//
//===----------------------------------------------------------------------===//

#include "RuntimeTestSupport.h"

#include "attnrt/attnrt.h"

#include "gtest/gtest.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <string>

using namespace attnrt_test;

namespace {

/// The folder of this process's broken packages, removed when it exits.
const fs::path &scratchRoot() {
  struct ScratchRoot {
    fs::path path = fs::temp_directory_path() /
                    ("attnrt_test_" + std::to_string(::getpid()));
    ~ScratchRoot() {
      std::error_code ignored;
      fs::remove_all(path, ignored);
    }
  };
  static ScratchRoot root;
  return root.path;
}

/// A copy of a good package with `edit` applied to its files.
std::string brokenPackage(const std::string &name,
                          const std::function<void(const fs::path &)> &edit,
                          const std::string &from = "f32_reference") {
  fs::path dir = scratchRoot() / name;
  fs::remove_all(dir);
  fs::create_directories(scratchRoot());
  fs::copy(packagePath(from), dir);
  edit(dir);
  return dir.string();
}

void replaceIn(const fs::path &path, const std::string &from,
               const std::string &to) {
  std::string text = readText(path);
  size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  writeText(path, text.replace(at, from.size(), to));
}

void expectLoadFails(const std::string &dir, attnrt_status status,
                     const std::string &message) {
  attnrt_kernel *kernel = reinterpret_cast<attnrt_kernel *>(0x1);
  EXPECT_EQ(attnrt_kernel_load(dir.c_str(), &kernel), status)
      << attnrt_last_error();
  EXPECT_EQ(kernel, nullptr);
  EXPECT_NE(std::string(attnrt_last_error()).find(message), std::string::npos)
      << attnrt_last_error();
}

TEST(Load, BadPackages) {
  expectLoadFails("/nonexistent.attnpkg", ATTNRT_IO_ERROR,
                  "/nonexistent.attnpkg/manifest.json: cannot open");
  expectLoadFails(brokenPackage("truncated",
                                [](const fs::path &dir) {
                                  std::string text =
                                      readText(dir / "manifest.json");
                                  writeText(dir / "manifest.json",
                                            text.substr(0, text.size() / 2));
                                }),
                  ATTNRT_CORRUPT_PACKAGE, "not a JSON object");
  expectLoadFails(brokenPackage("version",
                                [](const fs::path &dir) {
                                  replaceIn(dir / "manifest.json",
                                            "\"format_version\": 2",
                                            "\"format_version\": 7");
                                }),
                  ATTNRT_VERSION_MISMATCH, "package format version 7");
  expectLoadFails(brokenPackage("target",
                                [](const fs::path &dir) {
                                  replaceIn(
                                      dir / "manifest.json",
                                      "\"target\": \"cpu\",\n  \"triple\"",
                                      "\"target\": \"sm_70\",\n  \"triple\"");
                                }),
                  ATTNRT_UNSUPPORTED, "target 'sm_70' is not supported");
  // A CPU package relabelled as a CUDA one: its kernel ABI gives it away.
  expectLoadFails(brokenPackage("relabelled",
                                [](const fs::path &dir) {
                                  replaceIn(
                                      dir / "manifest.json",
                                      "\"target\": \"cpu\",\n  \"triple\"",
                                      "\"target\": \"sm_80\",\n  \"triple\"");
                                }),
                  ATTNRT_CORRUPT_PACKAGE,
                  "/kernel/abi: expected \"mlir-gpu-expanded-memrefs\"");
  expectLoadFails(
      brokenPackage("heads",
                    [](const fs::path &dir) {
                      replaceIn(dir / "manifest.json", "\"num_kv_heads\": 3",
                                "\"num_kv_heads\": 4");
                    }),
      ATTNRT_CORRUPT_PACKAGE, "/spec/num_kv_heads: does not divide");
  expectLoadFails(
      brokenPackage("params",
                    [](const fs::path &dir) {
                      replaceIn(dir / "manifest.json", "\"name\": \"lse\"",
                                "\"name\": \"log_sum_exp\"");
                    }),
      ATTNRT_CORRUPT_PACKAGE, "/kernel/params/4: expected parameter 'lse'");
  expectLoadFails(
      brokenPackage("nolib",
                    [](const fs::path &dir) { fs::remove(dir / "kernel.so"); }),
      ATTNRT_IO_ERROR, "kernel.so: cannot open");
  expectLoadFails(brokenPackage("badlib",
                                [](const fs::path &dir) {
                                  writeText(dir / "kernel.so",
                                            "not an ELF file");
                                }),
                  ATTNRT_CORRUPT_PACKAGE, "kernel.so: cannot load");
  expectLoadFails(
      brokenPackage("entry",
                    [](const fs::path &dir) {
                      replaceIn(dir / "manifest.json",
                                "\"entry\": \"_mlir_ciface_f32_reference\"",
                                "\"entry\": \"missing_symbol\"");
                    }),
      ATTNRT_CORRUPT_PACKAGE, "no entry point 'missing_symbol'");
  expectLoadFails(brokenPackage("escape",
                                [](const fs::path &dir) {
                                  replaceIn(dir / "manifest.json",
                                            "\"file\": \"kernel.so\"",
                                            "\"file\": \"../../etc/passwd\"");
                                }),
                  ATTNRT_CORRUPT_PACKAGE, "/kernel/file: expected a file name");
  // An appending package needs its append function, and RoPE an even
  // rotary dim within the head dim.
  expectLoadFails(brokenPackage(
                      "append",
                      [](const fs::path &dir) {
                        replaceIn(dir / "manifest.json",
                                  "\"append_entry\": "
                                  "\"_mlir_ciface_paged_append_f32_append\"",
                                  "\"append_entry\": \"missing_append\"");
                      },
                      "paged_append_f32"),
                  ATTNRT_CORRUPT_PACKAGE, "no append entry 'missing_append'");
  expectLoadFails(brokenPackage(
                      "noappend",
                      [](const fs::path &dir) {
                        replaceIn(dir / "manifest.json",
                                  "\"append_entry\": ", "\"append_symbol\": ");
                      },
                      "paged_append_f32"),
                  ATTNRT_CORRUPT_PACKAGE, "/kernel/append_entry");
  expectLoadFails(brokenPackage(
                      "rope",
                      [](const fs::path &dir) {
                        replaceIn(dir / "manifest.json", "\"rotary_dim\": 32",
                                  "\"rotary_dim\": 33");
                      },
                      "paged_append_f32"),
                  ATTNRT_CORRUPT_PACKAGE,
                  "/spec/rope/rotary_dim: expected an even integer up to "
                  "head_dim");
  // A CUDA appending package must launch its append kernel as compiled.
  expectLoadFails(brokenPackage(
                      "appendgrid",
                      [](const fs::path &dir) {
                        replaceIn(dir / "manifest.json", "num_kv_heads / 4)",
                                  "num_kv_heads / 64)");
                      },
                      "append_sm80"),
                  ATTNRT_CORRUPT_PACKAGE, "/kernel/append/grid");
  {
    // Packages of earlier attngen versions, with one thread per new row,
    // still load.
    std::string earlier = brokenPackage(
        "appendthreads",
        [](const fs::path &dir) {
          replaceIn(dir / "manifest.json", "num_kv_heads / 4)",
                    "num_kv_heads / 128)");
          removeDigest(dir);
        },
        "append_sm80");
    attnrt_kernel *kernel = nullptr;
    EXPECT_EQ(attnrt_kernel_load(earlier.c_str(), &kernel), ATTNRT_OK)
        << attnrt_last_error();
    attnrt_kernel_release(kernel);
  }
  // Edits that leave the manifest consistent with itself (a spec field, the
  // kernel file) are refused by the digest attngen wrote over both; a
  // package without a digest (earlier attngen) is not checked.
  auto softcap = [](const fs::path &dir) {
    replaceIn(dir / "manifest.json", "\"softcap\": 0.0", "\"softcap\": 30.0");
  };
  expectLoadFails(brokenPackage("digestspec", softcap), ATTNRT_CORRUPT_PACKAGE,
                  "manifest.json: /kernel/digest: does not match kernel.so and "
                  "the manifest");
  expectLoadFails(
      brokenPackage(
          "digestptx",
          [](const fs::path &dir) {
            std::ofstream(dir / "kernel.ptx", std::ios::app) << "// appended\n";
          },
          "append_sm80"),
      ATTNRT_CORRUPT_PACKAGE, "/kernel/digest: does not match kernel.ptx");
  expectLoadFails(
      brokenPackage("digesthex",
                    [](const fs::path &dir) {
                      fs::path path = dir / "manifest.json";
                      writeText(path, std::regex_replace(
                                          readText(path),
                                          std::regex("fnv1a64:[0-9a-f]{16}"),
                                          "fnv1a64:0123456789abcdeZ"));
                    }),
      ATTNRT_CORRUPT_PACKAGE, "/kernel/digest: expected");
  expectLoadFails(brokenPackage("digestform",
                                [](const fs::path &dir) {
                                  replaceIn(dir / "manifest.json",
                                            "\"digest\": \"fnv1a64:",
                                            "\"digest\": \"sha1:");
                                }),
                  ATTNRT_CORRUPT_PACKAGE,
                  "/kernel/digest: expected \"fnv1a64:\" and 16 hex digits");
  {
    std::string unchecked = brokenPackage("nodigest", [&](const fs::path &dir) {
      softcap(dir);
      removeDigest(dir);
    });
    attnrt_kernel *kernel = nullptr;
    EXPECT_EQ(attnrt_kernel_load(unchecked.c_str(), &kernel), ATTNRT_OK)
        << attnrt_last_error();
    attnrt_kernel_release(kernel);
  }
  EXPECT_EQ(attnrt_kernel_load(nullptr, nullptr), ATTNRT_INVALID_ARGUMENT);
  attnrt_kernel *kernel = nullptr;
  EXPECT_EQ(attnrt_kernel_load(nullptr, &kernel), ATTNRT_INVALID_ARGUMENT);
  EXPECT_STREQ(attnrt_status_string(ATTNRT_CORRUPT_PACKAGE), "corrupt package");
}

} // namespace

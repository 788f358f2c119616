/*===- attnrt.h - libattnrt: load and run attngen kernel packages -*- C -*-===*\
|*                                                                            *|
|* The C API that engines embed. A package (`attngen compile --target        *|
|* cpu|sm_80|sm_90 -o K.attnpkg`) is a directory with manifest.json and      *|
|* kernel.so (CPU) or kernel.ptx (CUDA); libattnrt validates it, loads it,    *|
|* checks every call's arguments against the spec it was compiled from, and   *|
|* runs it. No MLIR, LLVM or CUDA toolkit dependency.                         *|
|*                                                                            *|
|* Every function returns a status; on failure, attnrt_last_error() returns a *|
|* one-line message for the calling thread, and nothing was run.              *|
\*===----------------------------------------------------------------------===*/

#ifndef ATTNRT_ATTNRT_H
#define ATTNRT_ATTNRT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define ATTNRT_API __attribute__((visibility("default")))
#else
#define ATTNRT_API
#endif

#define ATTNRT_VERSION_MAJOR 0
#define ATTNRT_VERSION_MINOR 3
/* The package format version this library reads. */
#define ATTNRT_PACKAGE_FORMAT_VERSION 2

typedef enum attnrt_status {
  ATTNRT_OK = 0,
  /* A null pointer, a size or stride that disagrees with the kernel's spec,
     a misaligned buffer. */
  ATTNRT_INVALID_ARGUMENT = 1,
  /* A package file is missing or unreadable. */
  ATTNRT_IO_ERROR = 2,
  /* manifest.json or kernel.so is malformed or inconsistent. */
  ATTNRT_CORRUPT_PACKAGE = 3,
  /* The package was written for another package format version. */
  ATTNRT_VERSION_MISMATCH = 4,
  /* This build or this machine cannot run the package (target, CPU
     features). */
  ATTNRT_UNSUPPORTED = 5,
  /* No CUDA driver or no CUDA device. */
  ATTNRT_NO_DEVICE = 6,
  /* The CUDA driver failed a call. */
  ATTNRT_DRIVER_ERROR = 7
} attnrt_status;

typedef enum attnrt_dtype {
  ATTNRT_F32 = 0,
  ATTNRT_F16 = 1, /* IEEE binary16 */
  ATTNRT_BF16 = 2
} attnrt_dtype;

typedef enum attnrt_target {
  ATTNRT_TARGET_CPU = 0,
  ATTNRT_TARGET_CUDA = 1
} attnrt_target;

/* Where a kernel's keys and values come from. */
typedef enum attnrt_kv_cache_layout {
  ATTNRT_KV_NONE = 0,       /* k/v [batch, seqlen_k, heads, dim] */
  ATTNRT_KV_CONTIGUOUS = 1, /* caches [batch, seqlen_k = capacity, ...] with
                               per-sequence lengths cache_seqlens */
  ATTNRT_KV_PAGED = 2       /* page pools [num_pages, page_size, ...] with
                               page_table and cache_seqlens */
} attnrt_kv_cache_layout;

typedef struct attnrt_kernel attnrt_kernel;

/* What a package computes (from its manifest). */
typedef struct attnrt_kernel_info {
  const char *name; /* owned by the kernel */
  attnrt_target target;
  attnrt_dtype dtype;
  int64_t num_q_heads, num_kv_heads, head_dim, head_dim_v;
  int returns_lse; /* the lse buffer is required */
  int uses_alibi;  /* alibi_slopes may be given (NULL: standard slopes) */
  /* The mask: key j is visible to query i iff (left_ok or j < sink_tokens)
     and right_ok, with off = seqlen_k - seqlen_q (0 if causal_top_left),
     left_ok = window_left < 0 or j >= i + off - window_left, right_ok =
     window_right < 0 or j <= i + off + window_right; causal caps
     window_right at 0. */
  int causal;
  int causal_top_left;
  int64_t window_left, window_right, sink_tokens;
  double scale;   /* applied to q.k */
  double softcap; /* 0 = off */
  attnrt_kv_cache_layout kv_cache;
  int64_t page_size; /* paged caches */
  /* Split-KV (flash-decoding): 1 = off, 0 = chunk count chosen per call,
     N = N chunks per row tile, merged by their log-sum-exps. */
  int64_t split_kv;
  /* Variable-length batches: q/k/v/o are packed [1, total, heads, dim] and
     lse [1, num_q_heads, total_q]; see cu_seqlens_q in the arguments. */
  int varlen;
  /* KV cache kernels that first store the call's k_new/v_new into the cache
     (see the arguments). */
  int appends_kv;
  /* Rotary embedding inside the kernel (rope_dim 0 = none): q at position
     seqlen_k - seqlen_q + i and appended keys at cache_seqlens[b] + j, pair
     p (x[p], x[p + rope_dim / 2]) or, interleaved, (x[2p], x[2p + 1]) turned
     by position * rope_base^(-2p / rope_dim). */
  double rope_base;
  int64_t rope_dim;
  int rope_interleaved;
} attnrt_kernel_info;

/* One attention call. Tensors are BSHD: q[b, seqlen_q, num_q_heads,
   head_dim], k[b, seqlen_k, num_kv_heads, head_dim], v[b, seqlen_k,
   num_kv_heads, head_dim_v], o[b, seqlen_q, num_q_heads, head_dim_v], all of
   the kernel's dtype; lse[b, num_q_heads, seqlen_q] in f32. batch, seqlen_q
   and seqlen_k may be 0, and a tensor without elements may then be NULL:
   no rows write nothing, no keys give O = 0 and LSE = -inf. seqlen_q and
   seqlen_k are at most 2^31 - 1 (the kernels' positions are 32-bit).

   KV cache kernels: sequence b attends to its first cache_seqlens[b] keys
   (and the causal/window alignment uses that length). Contiguous caches
   are k/v[b, seqlen_k, ...] with seqlen_k the capacity; paged caches are
   k/v[num_pages, page_size, ...] and key j of sequence b is row
   j % page_size of page page_table[b * max_pages_per_seq + j / page_size].
   On the CPU every length and used page index is checked; on CUDA they are
   device memory and are not read back: the kernel clamps them to the cache
   so that it never reads outside it, and the engine owns their
   correctness. */
typedef struct attnrt_attention_args {
  const void *q, *k, *v;
  void *o;
  float *lse;                /* required iff info.returns_lse, else NULL */
  const float *alibi_slopes; /* [num_q_heads]; only with info.uses_alibi */
  int64_t batch, seqlen_q, seqlen_k;
  /* Element strides over (b, s, h, d); all zero = dense. Otherwise only the
     batch stride may differ from dense BSHD (and be at least dense). For
     paged k/v, (page, row, h, d). */
  int64_t q_strides[4], k_strides[4], v_strides[4], o_strides[4];
  /* KV cache kernels only (NULL / 0 otherwise). */
  const int32_t *cache_seqlens; /* [batch] */
  const int32_t *page_table;    /* [batch, max_pages_per_seq], paged only */
  int64_t num_pages, max_pages_per_seq; /* paged only */
  /* Split-KV kernels on CUDA: device memory of at least
     attnrt_workspace_bytes() bytes, 16-byte aligned, not used by another
     call in flight. CPU calls allocate their own (NULL here). */
  void *workspace;
  size_t workspace_bytes;
  /* Variable-length kernels only: batch sequences packed along dimension 1
     of q/o (seqlen_q = total queries) and k/v (seqlen_k = total keys), with
     tensor batch dimension 1; sequence b is rows cu_seqlens_q[b] to
     cu_seqlens_q[b + 1] - 1 (and likewise for keys). [batch + 1] each,
     starting at 0, non-decreasing, ending at the totals. max_seqlen_q (the
     longest sequence's queries) sizes the CUDA grid; the CPU path computes
     it and checks every offset. Varlen KV cache kernels pack the queries
     only: cu_seqlens_k is NULL and sequence b's keys are the first
     cache_seqlens[b] rows of its cache (contiguous caches are [batch,
     seqlen_k = capacity, ...], one entry per sequence). */
  const int32_t *cu_seqlens_q, *cu_seqlens_k;
  int64_t max_seqlen_q;
  /* Appending kernels only (info.appends_kv): the new keys and values
     [batch, seqlen_q, num_kv_heads, head_dim(_v)] (varlen: packed like q,
     sequence b's rows cu_seqlens_q[b] .. cu_seqlens_q[b + 1] - 1; strides
     as for q, all zero = dense). Before attending, key j of sequence b is
     stored (rotated by the kernel's rope) at cache row cache_seqlens[b] + j, so
     k and v are written, and the sequence attends to cache_seqlens[b] +
     seqlen_q keys; cache_seqlens itself is not updated (the engine advances
     it). The rows must fit in the cache (checked on the CPU; on CUDA rows
     outside the cache or its pages are skipped). */
  const void *k_new, *v_new;
  int64_t k_new_strides[4], v_new_strides[4];
} attnrt_attention_args;

/* Loads and validates a package directory. */
ATTNRT_API attnrt_status attnrt_kernel_load(const char *package_dir,
                                            attnrt_kernel **kernel);
/* Releases a kernel (NULL is allowed). */
ATTNRT_API void attnrt_kernel_release(attnrt_kernel *kernel);
ATTNRT_API attnrt_status attnrt_kernel_get_info(const attnrt_kernel *kernel,
                                                attnrt_kernel_info *info);

/* Runs a CPU kernel on host buffers with up to num_threads threads
   (0 = all cores). Thread-safe: calls may run concurrently. */
ATTNRT_API attnrt_status attnrt_run_cpu(const attnrt_kernel *kernel,
                                        const attnrt_attention_args *args,
                                        int num_threads);

/*===--- CUDA ------------------------------------------------------------===*
 * libcuda.so.1 is loaded at run time (ATTNRT_CUDA_DRIVER=/path overrides it);
 * without a driver or device every call below returns ATTNRT_NO_DEVICE.
 * Calls use the calling thread's current context; a thread without one gets
 * device 0's primary context (the CUDA runtime's, so PyTorch's) made current.
 *===---------------------------------------------------------------------===*/

/* ATTNRT_OK when the driver loads and reports at least one device;
   otherwise ATTNRT_NO_DEVICE with a message, never a crash. */
ATTNRT_API attnrt_status attnrt_cuda_available(void);

/* Launches a CUDA kernel (a package compiled for sm_80 or sm_90) on `stream`
   (a CUstream or cudaStream_t; NULL = the legacy default stream) and returns
   without waiting. The pointers in args are device pointers, q/k/v/o aligned
   to 16 bytes for head dims that are multiples of 8. The first launch in a
   context loads the PTX there (JIT-compiled by the driver) and opts in to
   the kernel's dynamic shared memory; later launches reuse it. Thread-safe.
   A device older than the package's target, or with too little shared
   memory per block, gets ATTNRT_UNSUPPORTED; PTX the driver rejects gets
   ATTNRT_CORRUPT_PACKAGE with the JIT log's message. Errors of the kernel
   itself surface at the next synchronization, as with any CUDA launch. */
ATTNRT_API attnrt_status attnrt_run_cuda(const attnrt_kernel *kernel,
                                         const attnrt_attention_args *args,
                                         void *stream);

typedef struct attnrt_cuda_device_info {
  int ordinal; /* the device of the calling thread's context */
  char name[256];
  int compute_capability_major, compute_capability_minor;
  int multiprocessors;
  int max_shared_memory_per_block; /* with opt-in */
  int64_t total_memory_bytes;
} attnrt_cuda_device_info;

ATTNRT_API attnrt_status
attnrt_cuda_device_get_info(attnrt_cuda_device_info *info);

/* Device buffers and copies for programs without their own allocator (the
   copies are synchronous). attnrt_cuda_free(NULL) does nothing. */
ATTNRT_API attnrt_status attnrt_cuda_malloc(size_t bytes,
                                            void **device_pointer);
ATTNRT_API attnrt_status attnrt_cuda_free(void *device_pointer);
ATTNRT_API attnrt_status attnrt_cuda_copy_to_device(void *device_destination,
                                                    const void *host_source,
                                                    size_t bytes);
ATTNRT_API attnrt_status attnrt_cuda_copy_to_host(void *host_destination,
                                                  const void *device_source,
                                                  size_t bytes);
/* The workspace a call of a split-KV CUDA kernel needs, from its shape and
   this device (0 for every other kernel, for CPU kernels, and for a call
   whose keys come in one chunk: the kernel then writes o itself, no merge
   runs). split_kv "auto" chunks by the kernel's occupancy on the device, so
   this loads the kernel in the calling thread's context, as the first
   launch would. */
ATTNRT_API attnrt_status
attnrt_workspace_bytes(const attnrt_kernel *kernel,
                       const attnrt_attention_args *args, size_t *bytes);

/* Waits for `stream` (NULL: all work in the context); reports a failed
   kernel launched before it. */
ATTNRT_API attnrt_status attnrt_cuda_synchronize(void *stream);

/* The last error message of the calling thread ("" if none). */
ATTNRT_API const char *attnrt_last_error(void);
ATTNRT_API const char *attnrt_status_string(attnrt_status status);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ATTNRT_ATTNRT_H */

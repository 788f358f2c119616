/* embed.c - run an attngen CPU kernel package through libattnrt's C API and
 * check it against a plain double-precision attention.
 *
 * usage: embed PACKAGE_DIR [BATCH SEQLEN_Q SEQLEN_K]
 * Prints the kernel, the problem and the max error; exits 1 if the error is
 * above 1e-4 (f32 packages) or on any libattnrt error. */
#include "attnrt/attnrt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deterministic inputs in [-1, 1). */
static float next_random(unsigned long long *state) {
  *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (float)((*state >> 40) & 0xFFFFFF) / 8388608.0f - 1.0f;
}

static int visible(const attnrt_kernel_info *info, int64_t i, int64_t j,
                   int64_t sq, int64_t sk) {
  int64_t off = info->causal_top_left ? 0 : sk - sq;
  /* causal intersects the window with (-1, 0): no key right of the diagonal */
  int64_t right = info->causal ? 0 : info->window_right;
  int left_ok = info->window_left < 0 || j >= i + off - info->window_left;
  int right_ok = right < 0 || j <= i + off + right;
  return (left_ok || j < info->sink_tokens) && right_ok;
}

int main(int argc, char **argv) {
  if (argc != 2 && argc != 5) {
    fprintf(stderr, "usage: %s PACKAGE_DIR [BATCH SEQLEN_Q SEQLEN_K]\n",
            argv[0]);
    return 2;
  }
  int64_t batch = argc == 5 ? atoll(argv[2]) : 2;
  int64_t sq = argc == 5 ? atoll(argv[3]) : 37;
  int64_t sk = argc == 5 ? atoll(argv[4]) : 53;

  attnrt_kernel *kernel = NULL;
  attnrt_kernel_info info;
  if (attnrt_kernel_load(argv[1], &kernel) != ATTNRT_OK ||
      attnrt_kernel_get_info(kernel, &info) != ATTNRT_OK) {
    fprintf(stderr, "embed: %s\n", attnrt_last_error());
    attnrt_kernel_release(kernel);
    return 1;
  }
  if (info.dtype != ATTNRT_F32 || info.uses_alibi || info.softcap != 0.0) {
    fprintf(
        stderr,
        "embed: this example checks f32 kernels without ALiBi or softcap\n");
    attnrt_kernel_release(kernel);
    return 1;
  }
  int64_t hq = info.num_q_heads, hkv = info.num_kv_heads;
  int64_t d = info.head_dim, dv = info.head_dim_v;
  size_t nq = batch * sq * hq * d, nk = batch * sk * hkv * d;
  size_t nv = batch * sk * hkv * dv, no = batch * sq * hq * dv;
  float *q = malloc(nq * sizeof(float)), *k = malloc(nk * sizeof(float));
  float *v = malloc(nv * sizeof(float)), *o = malloc(no * sizeof(float));
  float *lse =
      info.returns_lse ? malloc(batch * hq * sq * sizeof(float)) : NULL;
  double *scores = malloc(sk * sizeof(double));
  unsigned long long state = 1;
  for (size_t i = 0; i < nq; ++i) {
    q[i] = next_random(&state);
  }
  for (size_t i = 0; i < nk; ++i) {
    k[i] = next_random(&state);
  }
  for (size_t i = 0; i < nv; ++i) {
    v[i] = next_random(&state);
  }

  attnrt_attention_args args;
  memset(&args, 0, sizeof(args));
  args.q = q;
  args.k = k;
  args.v = v;
  args.o = o;
  args.lse = lse;
  args.batch = batch;
  args.seqlen_q = sq;
  args.seqlen_k = sk;
  int status = attnrt_run_cpu(kernel, &args, 0);
  if (status != ATTNRT_OK) {
    fprintf(stderr, "embed: %s: %s\n", attnrt_status_string(status),
            attnrt_last_error());
    return 1;
  }

  /* The reference: softmax(scale * q k^T, masked) v, in double. */
  double max_error = 0.0;
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t h = 0; h < hq; ++h) {
      for (int64_t i = 0; i < sq; ++i) {
        int64_t kvh = h / (hq / hkv);
        double row_max = -INFINITY, sum = 0.0;
        for (int64_t j = 0; j < sk; ++j) {
          scores[j] = -INFINITY;
          if (!visible(&info, i, j, sq, sk)) {
            continue;
          }
          double dot = 0.0;
          for (int64_t x = 0; x < d; ++x) {
            dot += (double)q[((b * sq + i) * hq + h) * d + x] *
                   k[((b * sk + j) * hkv + kvh) * d + x];
          }
          scores[j] = dot * info.scale;
          if (scores[j] > row_max) {
            row_max = scores[j];
          }
        }
        for (int64_t j = 0; j < sk; ++j) {
          sum += row_max == -INFINITY ? 0.0 : exp(scores[j] - row_max);
        }
        for (int64_t x = 0; x < dv; ++x) {
          double expected = 0.0;
          for (int64_t j = 0; j < sk && sum > 0; ++j) {
            expected += exp(scores[j] - row_max) / sum *
                        v[((b * sk + j) * hkv + kvh) * dv + x];
          }
          double error = fabs(expected - o[((b * sq + i) * hq + h) * dv + x]);
          if (error > max_error || error != error) {
            max_error = error != error ? INFINITY : error;
          }
        }
      }
    }
  }
  printf(
      "kernel %s: batch %lld, seqlen_q %lld, seqlen_k %lld, heads %lld/%lld, "
      "head dims %lld/%lld: max error %.3g\n",
      info.name, (long long)batch, (long long)sq, (long long)sk, (long long)hq,
      (long long)hkv, (long long)d, (long long)dv, max_error);
  attnrt_kernel_release(kernel);
  free(q);
  free(k);
  free(v);
  free(o);
  free(lse);
  free(scores);
  if (!(max_error <= 1e-4)) {
    fprintf(stderr, "embed: error %.3g above 1e-4\n", max_error);
    return 1;
  }
  printf("ok\n");
  return 0;
}

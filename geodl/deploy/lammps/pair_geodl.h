/* geodl LAMMPS plugin, LAMMPS half: the pair style class and the table of functions of
   the libtorch half (libgeodl_backend.so), which geodl_plugin.cpp opens with dlopen. */

#ifndef GEODL_PAIR_GEODL_H
#define GEODL_PAIR_GEODL_H

#include "pair.h"

#include <cstdint>
#include <string>
#include <vector>

namespace LAMMPS_NS {

// Function table of libgeodl_backend.so.
struct GeoDLBackend {
  void *dso = nullptr;
  int (*abi)() = nullptr;
  const char *(*torch_version)() = nullptr;
  void (*set_num_threads)(int) = nullptr;
  int (*get_num_threads)() = nullptr;
  void *(*open)(const char *, char *, int) = nullptr;
  void (*close)(void *) = nullptr;
  int (*meta)(void *, double *, double *, int *, char *, int, char *, int, char *, int) = nullptr;
  int (*compute)(void *, int64_t, int64_t, const int64_t *, int64_t, const int64_t *,
                 const double *, double *, double *, double *, char *, int) = nullptr;
};

// Open libgeodl_backend.so beside the plugin; "" on success, else the reason.
std::string geodl_load_backend(GeoDLBackend &b);

class PairGeoDL : public Pair {
 public:
  PairGeoDL(class LAMMPS *);
  ~PairGeoDL() override;
  void compute(int, int) override;
  void settings(int, char **) override;
  void coeff(int, char **) override;
  void init_style() override;
  double init_one(int, int) override;
  int pack_reverse_comm(int, int, double *) override;
  void unpack_reverse_comm(int, int *, double *) override;
  double memory_usage() override;

 protected:
  GeoDLBackend backend;
  void *model = nullptr;
  double r_cut = 0.0, receptive_field = 0.0;
  bool ghost_mode = false;
  std::vector<std::string> type_map;
  std::vector<int> type2species;    // LAMMPS type (1-based) -> species, -1 for NULL
  int chunk = 4096;                  // centres per model call in local mode
  std::vector<int64_t> atom_species;    // species of local + ghost atoms
  std::vector<int64_t> node_species;    // local mode: chunk centres, then one proxy per species
  std::vector<int64_t> edge_index;      // (2, E) node indices for the model
  std::vector<int64_t> node_of_i, node_of_j;
  std::vector<int> edge_i, edge_j;      // atoms at both ends of each edge
  std::vector<int> identity;
  std::vector<double> edge_vec, dedge, atomic;
  std::vector<double> fbuf, vbuf;    // forces / per-atom virial of local + ghost atoms
  double wsum[6] = {0, 0, 0, 0, 0, 0};
  int comm_virial = 0;               // reverse comm carries the per-atom virial too

  void allocate();
  void check_box();
  void set_species();
  void build_graph(int c0, int c1);
  void evaluate(int64_t nnodes, int ncount, const int *centre_atom);
  void finish_forces(int nall, int nlocal);
  void reverse_ghost_terms(int nlocal);
};


}    // namespace LAMMPS_NS

#endif

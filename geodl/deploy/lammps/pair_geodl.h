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
  int (*mp_info)(void *, int *, int *, int, char *, int) = nullptr;
  int (*mp_forward)(void *, int, int64_t, int64_t, const int64_t *, int64_t, const int64_t *,
                    const double *, const double *, double *, double *, char *, int) = nullptr;
  int (*mp_backward)(void *, int, int64_t, int64_t, const int64_t *, int64_t, const int64_t *,
                     const double *, const double *, const double *, double *, double *, double *,
                     char *, int) = nullptr;
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
  int pack_forward_comm(int, int *, double *, int, int *) override;
  void unpack_forward_comm(int, int, double *) override;
  int pack_reverse_comm(int, int, double *) override;
  void unpack_reverse_comm(int, int *, double *) override;
  double memory_usage() override;

 protected:
  // LOCAL: receptive field = r_cut. SHELL: ghost shell over the receptive field, edges
  // among all atoms. EXCHANGE: r_cut shell, node features exchanged between layers.
  enum Mode { LOCAL, SHELL, EXCHANGE };
  enum Request { AUTO, WANT_EXCHANGE, WANT_SHELL };    // the pair_style keyword
  GeoDLBackend backend;
  void *model = nullptr;
  std::string model_file;
  double r_cut = 0.0, receptive_field = 0.0;
  int format_version = 0;
  Mode mode = LOCAL;
  Request request = AUTO;
  int logged_mode = -1;
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
  std::vector<size_t> edge_start;    // first edge of each centre of build_graph, and the end
  double wsum[6] = {0, 0, 0, 0, 0, 0};
  int comm_virial = 0;               // reverse comm carries the per-atom virial too

  // exchange mode (pair_geodl_exchange.cpp)
  struct Chunk {
    int c0 = 0, c1 = 0;                 // centres ilist[c0..c1): nodes 0 .. c1-c0-1
    size_t e0 = 0, e1 = 0;              // their edges
    std::vector<int> nodes;             // atom of each node
    std::vector<int64_t> species, index;
  };
  int mp_layers = 0;
  std::vector<int> mp_widths;                 // h_0 ... h_L
  std::vector<Chunk> chunks;
  std::vector<int> node_id;                   // atom -> node of the chunk being built
  std::vector<std::vector<double>> feat;      // feat[t]: h_t of local + ghost atoms
  std::vector<double> grad_feat, grad_next;   // dE/dh_t, dE/dh_t+1 of local + ghost atoms
  std::vector<double> hbuf, gbuf, obuf, ebuf, eloc;
  double *comm_data = nullptr;                // rows that forward / reverse comm move
  int comm_width = 0;                         // their width; 0: reverse comm moves forces

  void allocate();
  void check_box();
  void set_mode();
  void set_species();
  void build_graph(int c0, int c1);
  void evaluate(int64_t nnodes, int ncount, const int *centre_atom);
  void tally_edges(size_t e0, size_t e1);
  void finish_forces(int nall, int nlocal);
  void reverse_ghost_terms(int nlocal);
  void compute_exchange(int nall, int nlocal);
  void build_chunks(int nall);
  void exchange_forward(int nall);
  void exchange_backward(int nall);
  double exchange_memory() const;
  void gather_rows(const std::vector<double> &src, const std::vector<int> &rows, int n,
                   int width, std::vector<double> &dst);
};


}    // namespace LAMMPS_NS

#endif

/* geodl LAMMPS plugin, LAMMPS half: the exchange mode of `pair_style geodl` for
   message-passing models (see the scheme in pair_geodl.cpp), the choice of mode, and
   the forward / reverse communication of node features, their gradients and forces.

   Layer t of the model needs h_t of the local atoms and of their neighbours within
   r_cut (ghosts included) and gives h_t+1 of the local atoms only; forward comm then
   fills the ghost rows. The gradient pass runs the layers backwards: dE/dh_t of every
   node of a layer's graph, ghost rows summed into their owners by reverse comm, is what
   the layer below needs for its local rows. Centres are split into chunks of `chunk`
   atoms; each chunk's graph numbers its centres first, then the other atoms its edges
   reach, so the model computes nothing for atoms whose rows it does not own. */

#include "pair_geodl.h"

#include "atom.h"
#include "comm.h"
#include "error.h"
#include "neigh_list.h"
#include "utils.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace LAMMPS_NS;

namespace {
constexpr int ERRLEN = 4096;
}

// The mode from the model and the pair_style keyword; logged when it changes.
void PairGeoDL::set_mode()
{
  const bool local = !(receptive_field > r_cut * (1.0 + 1e-12));
  if (local)
    mode = LOCAL;
  else if (request == WANT_SHELL || (request == AUTO && mp_layers == 0))
    mode = SHELL;
  else if (mp_layers > 0)
    mode = EXCHANGE;
  else
    error->all(FLERR,
               "pair_style geodl exchange: the model {} has no per-layer path ({}); redeploy "
               "it with this geodl (geodl deploy --model RUN/model.pt --out model.pth) or use "
               "'pair_style geodl shell'",
               model_file,
               format_version < 2 ? "it was deployed by an older geodl, file format 1"
                                  : "its family does not expose its layers");
  if (comm->me == 0 && logged_mode != (int) mode) {
    if (mode == LOCAL)
      utils::logmesg(lmp, "pair_style geodl: local model: edges from owned atoms{}\n",
                     request == AUTO ? "" : " (the exchange / shell keyword has no effect)");
    else if (mode == EXCHANGE)
      utils::logmesg(lmp,
                     "pair_style geodl: message passing, {} layers: node features exchanged "
                     "between layers (ghost shell of r_cut + skin)\n",
                     mp_layers);
    else
      utils::logmesg(lmp, "pair_style geodl: message passing: ghost shell over the receptive "
                          "field{}\n",
                     request == WANT_SHELL ? "" : " (the model file has no per-layer path)");
  }
  logged_mode = (int) mode;
}

/* ---------------------------------------------------------------------- */

// One graph per chunk of centres: nodes = its centres (in ilist order), then the other
// atoms its edges reach; edges as build_graph numbered them (one contiguous range).
void PairGeoDL::build_chunks(int nall)
{
  const int inum = list->inum;
  const int *ilist = list->ilist;
  node_id.assign(nall, -1);
  const int nchunks = (inum + chunk - 1) / chunk;
  chunks.resize(nchunks);
  for (int c = 0; c < nchunks; c++) {
    Chunk &ch = chunks[c];
    ch.c0 = c * chunk;
    ch.c1 = std::min(inum, ch.c0 + chunk);
    ch.e0 = edge_start[ch.c0];
    ch.e1 = edge_start[ch.c1];
    ch.nodes.clear();
    for (int ii = ch.c0; ii < ch.c1; ii++) {
      node_id[ilist[ii]] = (int) ch.nodes.size();
      ch.nodes.push_back(ilist[ii]);
    }
    for (size_t e = ch.e0; e < ch.e1; e++) {
      const int j = edge_j[e];
      if (node_id[j] < 0) {
        node_id[j] = (int) ch.nodes.size();
        ch.nodes.push_back(j);
      }
    }
    const size_t nedges = ch.e1 - ch.e0;
    ch.index.resize(2 * nedges);
    for (size_t e = 0; e < nedges; e++) {
      ch.index[e] = node_id[edge_i[ch.e0 + e]];
      ch.index[nedges + e] = node_id[edge_j[ch.e0 + e]];
    }
    ch.species.resize(ch.nodes.size());
    for (size_t k = 0; k < ch.nodes.size(); k++) {
      ch.species[k] = atom_species[ch.nodes[k]];
      node_id[ch.nodes[k]] = -1;
    }
  }
}

// dst (n, width) = rows `rows[0..n)` of src (atoms, width).
void PairGeoDL::gather_rows(const std::vector<double> &src, const std::vector<int> &rows, int n,
                            int width, std::vector<double> &dst)
{
  dst.resize((size_t) n * width);
  for (int k = 0; k < n; k++)
    std::memcpy(&dst[(size_t) k * width], &src[(size_t) rows[k] * width], sizeof(double) * width);
}

// Layers 0 .. L-2 forward: feat[t] (t = 1 .. L-1) of every atom, energies into eloc. The
// last layer runs only backward, which gives its energies too.
void PairGeoDL::exchange_forward(int nall)
{
  char err[ERRLEN] = "";
  feat.resize(mp_layers);
  for (int t = 0; t + 1 < mp_layers; t++) {
    const int w_out = mp_widths[t + 1];
    feat[t + 1].assign((size_t) nall * w_out, 0.0);
    for (const Chunk &ch : chunks) {
      const int ncentres = ch.c1 - ch.c0, nnodes = (int) ch.nodes.size();
      if (t > 0) gather_rows(feat[t], ch.nodes, nnodes, mp_widths[t], hbuf);
      obuf.resize((size_t) ncentres * w_out);
      ebuf.assign(ncentres, 0.0);
      if (backend.mp_forward(model, t, nnodes, ncentres, ch.species.data(),
                             (int64_t) (ch.e1 - ch.e0), ch.index.data(),
                             edge_vec.data() + 3 * ch.e0, t > 0 ? hbuf.data() : nullptr,
                             obuf.data(), ebuf.data(), err, ERRLEN))
        error->one(FLERR, "pair_style geodl: {}", err);
      for (int k = 0; k < ncentres; k++) {
        const int i = ch.nodes[k];
        eloc[i] += ebuf[k];
        std::memcpy(&feat[t + 1][(size_t) i * w_out], &obuf[(size_t) k * w_out],
                    sizeof(double) * w_out);
      }
    }
    // owners' rows into their ghost copies
    comm_data = feat[t + 1].data();
    comm_width = w_out;
    comm->forward_comm(this, w_out);
  }
}

// Layers L-1 .. 0 backward: edge gradients of every layer summed into dedge, the last
// layer's energies into eloc.
void PairGeoDL::exchange_backward(int nall)
{
  char err[ERRLEN] = "";
  for (int t = mp_layers - 1; t >= 0; t--) {
    const bool last = t == mp_layers - 1;
    const int w_in = mp_widths[t], w_out = mp_widths[t + 1];
    if (t > 0) grad_feat.assign((size_t) nall * w_in, 0.0);
    for (const Chunk &ch : chunks) {
      const int ncentres = ch.c1 - ch.c0, nnodes = (int) ch.nodes.size();
      if (t > 0) gather_rows(feat[t], ch.nodes, nnodes, w_in, hbuf);
      if (!last) gather_rows(grad_next, ch.nodes, ncentres, w_out, gbuf);
      if (t > 0) obuf.resize((size_t) nnodes * w_in);
      if (last) ebuf.assign(ncentres, 0.0);
      if (backend.mp_backward(model, t, nnodes, ncentres, ch.species.data(),
                              (int64_t) (ch.e1 - ch.e0), ch.index.data(),
                              edge_vec.data() + 3 * ch.e0, t > 0 ? hbuf.data() : nullptr,
                              last ? nullptr : gbuf.data(), t > 0 ? obuf.data() : nullptr,
                              dedge.data() + 3 * ch.e0, last ? ebuf.data() : nullptr, err,
                              ERRLEN))
        error->one(FLERR, "pair_style geodl: {}", err);
      if (last)
        for (int k = 0; k < ncentres; k++) eloc[ch.nodes[k]] += ebuf[k];
      if (t > 0)
        for (int k = 0; k < nnodes; k++) {
          double *row = &grad_feat[(size_t) ch.nodes[k] * w_in];
          const double *g = &obuf[(size_t) k * w_in];
          for (int c = 0; c < w_in; c++) row[c] += g[c];
        }
    }
    if (t > 0) {    // ghost rows into their owners: dE/dh_t of the local atoms
      comm_data = grad_feat.data();
      comm_width = w_in;
      comm->reverse_comm(this, w_in);
      std::swap(grad_feat, grad_next);
    }
  }
  comm_width = 0;
}

void PairGeoDL::compute_exchange(int nall, int nlocal)
{
  build_graph(0, list->inum);    // edges from every local centre, atoms as nodes
  build_chunks(nall);
  eloc.assign(nlocal, 0.0);
  dedge.assign(3 * edge_i.size(), 0.0);
  exchange_forward(nall);
  exchange_backward(nall);
  double energy = 0.0;
  for (int ii = 0; ii < list->inum; ii++) energy += eloc[list->ilist[ii]];
  if (!std::isfinite(energy))
    error->one(FLERR,
               "pair_style geodl: the model gave a non-finite energy ({}) for {} atoms; check "
               "for overlapping atoms or a structure far outside the training data",
               energy, list->inum);
  if (eflag_global) eng_vdwl += energy;
  if (eflag_atom)
    for (int ii = 0; ii < list->inum; ii++) eatom[list->ilist[ii]] += eloc[list->ilist[ii]];
  tally_edges(0, edge_i.size());
}

double PairGeoDL::exchange_memory() const
{
  double n = (double) (hbuf.capacity() + gbuf.capacity() + obuf.capacity() + ebuf.capacity() +
                       eloc.capacity() + grad_feat.capacity() + grad_next.capacity());
  for (const auto &f : feat) n += (double) f.capacity();
  double bytes = n * sizeof(double) + (double) node_id.capacity() * sizeof(int);
  for (const Chunk &ch : chunks)
    bytes += (double) ch.nodes.capacity() * sizeof(int) +
        (double) (ch.species.capacity() + ch.index.capacity()) * sizeof(int64_t);
  return bytes + (double) edge_start.capacity() * sizeof(size_t);
}

/* ---------------------------------------------------------------------- */

int PairGeoDL::pack_forward_comm(int n, int *list_, double *buf, int /*pbc_flag*/, int * /*pbc*/)
{
  // node features are translation invariant: a periodic image gets its owner's row
  const int w = comm_width;
  for (int ii = 0; ii < n; ii++)
    std::memcpy(&buf[(size_t) ii * w], &comm_data[(size_t) list_[ii] * w], sizeof(double) * w);
  return n * w;
}

void PairGeoDL::unpack_forward_comm(int n, int first, double *buf)
{
  const int w = comm_width;
  std::memcpy(&comm_data[(size_t) first * w], buf, sizeof(double) * (size_t) n * w);
}

int PairGeoDL::pack_reverse_comm(int n, int first, double *buf)
{
  int m = 0;
  if (comm_width > 0) {    // feature gradients of ghost rows
    const int w = comm_width;
    std::memcpy(buf, &comm_data[(size_t) first * w], sizeof(double) * (size_t) n * w);
    return n * w;
  }
  for (int i = first; i < first + n; i++) {
    for (int k = 0; k < 3; k++) buf[m++] = fbuf[3 * i + k];
    if (comm_virial)
      for (int k = 0; k < 6; k++) buf[m++] = vbuf[6 * i + k];
  }
  return m;
}

void PairGeoDL::unpack_reverse_comm(int n, int *list_, double *buf)
{
  int m = 0;
  if (comm_width > 0) {
    const int w = comm_width;
    for (int ii = 0; ii < n; ii++) {
      double *row = &comm_data[(size_t) list_[ii] * w];
      for (int c = 0; c < w; c++) row[c] += buf[m++];
    }
    return;
  }
  for (int ii = 0; ii < n; ii++) {
    const int j = list_[ii];
    for (int k = 0; k < 3; k++) fbuf[3 * j + k] += buf[m++];
    if (comm_virial)
      for (int k = 0; k < 6; k++) vbuf[6 * j + k] += buf[m++];
  }
}

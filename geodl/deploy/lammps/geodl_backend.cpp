/* geodl LAMMPS plugin, libtorch half: loads a `geodl deploy` TorchScript file and
   evaluates it. Compiled against the torch wheel's headers and linked to its libraries
   by `geodl lammps build`; see geodl_backend.h for the interface. */

#include "geodl_backend.h"

#include <torch/script.h>
#include <torch/version.h>
#include <ATen/Parallel.h>
#include <torch/csrc/jit/runtime/graph_executor.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#ifndef GEODL_BACKEND_ABI
#error "GEODL_BACKEND_ABI must be defined by the build"
#endif
#ifndef GEODL_FORMAT_VERSION
#error "GEODL_FORMAT_VERSION must be defined by the build"
#endif

namespace {

struct Model {
  torch::jit::Module module;
  double r_cut = 0.0;
  double receptive_field = 0.0;
  int64_t format_version = 0;
  std::vector<std::string> type_map;
  std::string info;
  int64_t mp_layers = 0;                // per-layer path: layers, 0 for none
  std::vector<int64_t> mp_widths;       // widths of h_0 ... h_L
};

void set_error(char *err, int errlen, const std::string &msg)
{
  if (err == nullptr || errlen <= 0) return;
  std::snprintf(err, (size_t) errlen, "%s", msg.c_str());
}

// First line of a c10::Error message (the rest is a C++ backtrace).
std::string first_line(const std::string &what)
{
  auto pos = what.find('\n');
  return pos == std::string::npos ? what : what.substr(0, pos);
}

bool copy_string(const std::string &s, char *out, int len)
{
  if (out == nullptr || len <= 0) return false;
  if ((int) s.size() >= len) return false;
  std::memcpy(out, s.c_str(), s.size() + 1);
  return true;
}

// Format 2: the per-layer path (mp_layers, mp_widths, mp_forward, mp_backward).
void read_layer_metadata(Model &m, const std::string &path)
{
  if (m.format_version < 2) return;    // format 1: no per-layer path
  auto &mod = m.module;
  m.mp_layers = mod.attr("mp_layers").toInt();
  for (const auto &w : mod.attr("mp_widths").toListRef()) m.mp_widths.push_back(w.toInt());
  if (m.mp_layers == 0) return;
  bool ok = m.mp_layers > 0 && (int64_t) m.mp_widths.size() == m.mp_layers + 1 &&
      mod.find_method("mp_forward") && mod.find_method("mp_backward");
  for (auto w : m.mp_widths) ok = ok && w > 0;
  if (!ok)
    throw std::runtime_error("'" + path + "' has an inconsistent per-layer path (mp_layers " +
                             std::to_string(m.mp_layers) + ", " +
                             std::to_string(m.mp_widths.size()) +
                             " widths); redeploy it with geodl deploy");
  m.info += ", " + std::to_string(m.mp_layers) + " layers (per-layer path)";
}

void read_metadata(Model &m, const std::string &path)
{
  auto &mod = m.module;
  if (!mod.hasattr("geodl_format_version"))
    throw std::runtime_error("'" + path +
                             "' is a TorchScript file but not a geodl deployed model (no "
                             "geodl_format_version); create one with: geodl deploy --model "
                             "RUN/model.pt --out model.pth");
  m.format_version = mod.attr("geodl_format_version").toInt();
  if (m.format_version > GEODL_FORMAT_VERSION)
    throw std::runtime_error(
        "'" + path + "' has model format version " + std::to_string(m.format_version) +
        ", newer than this plugin reads (" + std::to_string(GEODL_FORMAT_VERSION) +
        "); upgrade geodl and rerun: geodl lammps build");
  if (m.format_version < 1)
    throw std::runtime_error("'" + path + "' has an invalid model format version " +
                             std::to_string(m.format_version));
  m.r_cut = mod.attr("r_cut").toDouble();
  m.receptive_field = mod.attr("receptive_field").toDouble();
  for (const auto &name : mod.attr("type_map").toListRef()) m.type_map.push_back(name.toStringRef());
  m.info = "geodl " + mod.attr("geodl_version").toStringRef() + " " +
      mod.attr("model_type").toStringRef() + " model, " + mod.attr("dtype").toStringRef() +
      ", format " + std::to_string(m.format_version) + ", torch " + TORCH_VERSION;
  read_layer_metadata(m, path);
  if (!(m.r_cut > 0.0) || !(m.receptive_field >= m.r_cut) || m.type_map.empty())
    throw std::runtime_error("'" + path + "' has inconsistent metadata (r_cut " +
                             std::to_string(m.r_cut) + ", receptive_field " +
                             std::to_string(m.receptive_field) + ", " +
                             std::to_string(m.type_map.size()) + " species)");
}

void check_layer(const Model &m, int layer, const double *h_in)
{
  if (m.mp_layers == 0) throw std::runtime_error("the model has no per-layer path");
  if (layer < 0 || layer >= m.mp_layers)
    throw std::runtime_error("no layer " + std::to_string(layer) + " (the model has " +
                             std::to_string(m.mp_layers) + ")");
  if (layer > 0 && h_in == nullptr) throw std::runtime_error("no input features for a layer > 0");
}

// Copy a model output of `count` values into a caller's double array.
void copy_out(const torch::Tensor &t, double *out, int64_t count, const char *what)
{
  auto c = t.to(torch::kFloat64).contiguous();
  if (c.numel() != count) throw std::runtime_error(std::string("model returned ") + what + " of wrong size");
  std::memcpy(out, c.data_ptr<double>(), sizeof(double) * (size_t) count);
}

// The caller's arrays of one mp_forward / mp_backward call as tensors (no copies).
struct LayerInputs {
  torch::Tensor species, index, vec, h;
  LayerInputs(const Model &m, int layer, int64_t nnodes, const int64_t *sp, int64_t nedges,
              const int64_t *edge_index, const double *edge_vec, const double *h_in)
  {
    auto i64 = torch::TensorOptions().dtype(torch::kInt64);
    auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
    species = torch::from_blob(const_cast<int64_t *>(sp), {nnodes}, i64);
    index = torch::from_blob(const_cast<int64_t *>(edge_index), {2, nedges}, i64);
    vec = torch::from_blob(const_cast<double *>(edge_vec), {nedges, 3}, f64);
    h = layer == 0 ? torch::zeros({0, m.mp_widths[0]}, f64)
                   : torch::from_blob(const_cast<double *>(h_in), {nnodes, m.mp_widths[layer]}, f64);
  }
  std::vector<torch::jit::IValue> ivalues(int layer, int64_t nlocal) const
  {
    return {(int64_t) layer, h, species, vec, index, nlocal};
  }
};

}    // namespace

extern "C" {

int geodl_backend_abi(void)
{
  return GEODL_BACKEND_ABI;
}

const char *geodl_backend_torch_version(void)
{
  return TORCH_VERSION;
}

void geodl_backend_set_num_threads(int n)
{
  if (n > 0) at::set_num_threads(n);
}

int geodl_backend_get_num_threads(void)
{
  return at::get_num_threads();
}

void *geodl_model_open(const char *path, char *err, int errlen)
{
  auto *m = new Model();
  try {
    // The profiling executor re-specialises the graph as the number of edges changes
    // every step and ran 1.5x slower than plain interpretation (eager speed) here.
    torch::jit::setGraphExecutorOptimize(false);
    m->module = torch::jit::load(path, torch::kCPU);
    m->module.eval();
    read_metadata(*m, path);
    return m;
  } catch (const c10::Error &e) {
    set_error(err, errlen,
              std::string("cannot read '") + path +
                  "' as a TorchScript model (missing, truncated or not written by geodl "
                  "deploy): " + first_line(e.what()));
  } catch (const std::exception &e) {
    set_error(err, errlen, e.what());
  }
  delete m;
  return nullptr;
}

void geodl_model_close(void *model)
{
  delete static_cast<Model *>(model);
}

int geodl_model_meta(void *model, double *r_cut, double *receptive_field, int *format_version,
                     char *type_map, int type_map_len, char *info, int info_len, char *err,
                     int errlen)
{
  auto *m = static_cast<Model *>(model);
  *r_cut = m->r_cut;
  *receptive_field = m->receptive_field;
  *format_version = (int) m->format_version;
  std::string joined;
  for (size_t k = 0; k < m->type_map.size(); ++k) joined += (k ? "\n" : "") + m->type_map[k];
  if (!copy_string(joined, type_map, type_map_len) || !copy_string(m->info, info, info_len)) {
    set_error(err, errlen, "model metadata longer than the buffer");
    return 1;
  }
  return 0;
}

int geodl_model_compute(void *model, int64_t nnodes, int64_t nlocal, const int64_t *species,
                        int64_t nedges, const int64_t *edge_index, const double *edge_vec,
                        double *energy, double *atomic, double *dedge, char *err, int errlen)
{
  auto *m = static_cast<Model *>(model);
  try {
    auto i64 = torch::TensorOptions().dtype(torch::kInt64);
    auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
    // from_blob wraps the caller's arrays without copying; nothing writes to them.
    auto t_species = torch::from_blob(const_cast<int64_t *>(species), {nnodes}, i64);
    auto t_index = torch::from_blob(const_cast<int64_t *>(edge_index), {2, nedges}, i64);
    auto t_vec = torch::from_blob(const_cast<double *>(edge_vec), {nedges, 3}, f64);
    std::vector<torch::jit::IValue> inputs{t_species, t_vec, t_index, nlocal};
    auto out = m->module.forward(inputs).toTuple();
    const auto &elems = out->elements();
    auto t_energy = elems[0].toTensor().to(torch::kFloat64).contiguous();
    auto t_grad = elems[2].toTensor().to(torch::kFloat64).contiguous();
    if (t_grad.numel() != 3 * nedges) throw std::runtime_error("model returned a gradient of wrong size");
    *energy = t_energy.item<double>();
    std::memcpy(dedge, t_grad.data_ptr<double>(), sizeof(double) * 3 * (size_t) nedges);
    if (atomic != nullptr) {
      auto t_atomic = elems[1].toTensor().to(torch::kFloat64).contiguous();
      if (t_atomic.numel() != nlocal) throw std::runtime_error("model returned atomic energies of wrong size");
      std::memcpy(atomic, t_atomic.data_ptr<double>(), sizeof(double) * (size_t) nlocal);
    }
    return 0;
  } catch (const c10::Error &e) {
    set_error(err, errlen, std::string("model evaluation failed: ") + first_line(e.what()));
  } catch (const std::exception &e) {
    set_error(err, errlen, std::string("model evaluation failed: ") + e.what());
  }
  return 1;
}

int geodl_model_mp_info(void *model, int *layers, int *widths, int max_widths, char *err,
                        int errlen)
{
  auto *m = static_cast<Model *>(model);
  *layers = (int) m->mp_layers;
  if (m->mp_layers > 0 && (int64_t) max_widths < m->mp_layers + 1) {
    set_error(err, errlen, "more layers in the model than the plugin's buffer holds");
    return 1;
  }
  for (int64_t t = 0; t <= m->mp_layers && m->mp_layers > 0; ++t) widths[t] = (int) m->mp_widths[t];
  return 0;
}

int geodl_model_mp_forward(void *model, int layer, int64_t nnodes, int64_t nlocal,
                           const int64_t *species, int64_t nedges, const int64_t *edge_index,
                           const double *edge_vec, const double *h_in, double *h_out,
                           double *atomic, char *err, int errlen)
{
  auto *m = static_cast<Model *>(model);
  try {
    check_layer(*m, layer, h_in);
    LayerInputs in(*m, layer, nnodes, species, nedges, edge_index, edge_vec, h_in);
    auto out = m->module.get_method("mp_forward")(in.ivalues(layer, nlocal)).toTuple();
    const auto &elems = out->elements();
    if (h_out != nullptr)
      copy_out(elems[0].toTensor(), h_out, nlocal * m->mp_widths[layer + 1], "features");
    auto energy = elems[1].toTensor().to(torch::kFloat64).contiguous();
    if (energy.numel() != nlocal) throw std::runtime_error("model returned energies of wrong size");
    const double *e = energy.data_ptr<double>();
    for (int64_t i = 0; i < nlocal; ++i) atomic[i] += e[i];
    return 0;
  } catch (const c10::Error &e) {
    set_error(err, errlen, std::string("model evaluation failed (mp_forward): ") + first_line(e.what()));
  } catch (const std::exception &e) {
    set_error(err, errlen, std::string("model evaluation failed (mp_forward): ") + e.what());
  }
  return 1;
}

int geodl_model_mp_backward(void *model, int layer, int64_t nnodes, int64_t nlocal,
                            const int64_t *species, int64_t nedges, const int64_t *edge_index,
                            const double *edge_vec, const double *h_in, const double *grad_out,
                            double *grad_in, double *dedge, double *atomic, char *err,
                            int errlen)
{
  auto *m = static_cast<Model *>(model);
  try {
    check_layer(*m, layer, h_in);
    const bool last = layer == m->mp_layers - 1;
    if (!last && grad_out == nullptr) throw std::runtime_error("no gradient for a hidden layer");
    LayerInputs in(*m, layer, nnodes, species, nedges, edge_index, edge_vec, h_in);
    auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
    auto t_grad = last ? torch::zeros({0}, f64)
                       : torch::from_blob(const_cast<double *>(grad_out),
                                          {nlocal, m->mp_widths[layer + 1]}, f64);
    auto args = in.ivalues(layer, nlocal);
    args.emplace_back(t_grad);
    auto out = m->module.get_method("mp_backward")(args).toTuple();
    const auto &elems = out->elements();
    if (layer > 0 && grad_in != nullptr)
      copy_out(elems[0].toTensor(), grad_in, nnodes * m->mp_widths[layer], "feature gradients");
    auto g = elems[1].toTensor().to(torch::kFloat64).contiguous();
    if (g.numel() != 3 * nedges) throw std::runtime_error("model returned a gradient of wrong size");
    const double *gp = g.data_ptr<double>();
    for (int64_t k = 0; k < 3 * nedges; ++k) dedge[k] += gp[k];
    if (atomic != nullptr) {
      auto energy = elems[2].toTensor().to(torch::kFloat64).contiguous();
      if (energy.numel() != nlocal) throw std::runtime_error("model returned energies of wrong size");
      const double *e = energy.data_ptr<double>();
      for (int64_t i = 0; i < nlocal; ++i) atomic[i] += e[i];
    }
    return 0;
  } catch (const c10::Error &e) {
    set_error(err, errlen, std::string("model evaluation failed (mp_backward): ") + first_line(e.what()));
  } catch (const std::exception &e) {
    set_error(err, errlen, std::string("model evaluation failed (mp_backward): ") + e.what());
  }
  return 1;
}

}    // extern "C"

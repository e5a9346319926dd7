/* geodl LAMMPS plugin: registration of pair_style geodl with LAMMPS (PLUGIN package)
   and loading of the libtorch half. The style is registered only into the LAMMPS build
   it was compiled for; anything else is logged and left unregistered. */

#include "comm.h"
#include "lammps.h"
#include "utils.h"

#include "geodl_backend.h"
#include "pair_geodl.h"

#include <cstring>
#include <dlfcn.h>
#include <string>

#ifndef GEODL_LAMMPS_NUM_VER
#error "GEODL_LAMMPS_NUM_VER must be defined by the build"
#endif
#ifndef GEODL_BACKEND_ABI
#error "GEODL_BACKEND_ABI must be defined by the build"
#endif
#ifndef GEODL_VERSION
#define GEODL_VERSION "unknown"
#endif
#ifndef GEODL_LAMMPS_GIT
#define GEODL_LAMMPS_GIT ""
#endif

// The plugin registration structure of LAMMPS's PLUGIN package (lammpsplugin.h, which
// the wheel does not ship): a C struct, stable across LAMMPS versions since 2021.
extern "C" {
typedef void *(geodl_lammpsplugin_factory1)(void *);
typedef void *(geodl_lammpsplugin_factory2)(void *, int, char **);
typedef struct {
  const char *version;
  const char *style;
  const char *name;
  const char *info;
  const char *author;
  union {
    geodl_lammpsplugin_factory1 *v1;
    geodl_lammpsplugin_factory2 *v2;
  } creator;
  void *handle;
} geodl_lammpsplugin_t;
typedef void (*geodl_lammpsplugin_regfunc)(geodl_lammpsplugin_t *, void *);
__attribute__((visibility("default"))) void lammpsplugin_init(void *lmp, void *handle,
                                                          void *regfunc);
}

using namespace LAMMPS_NS;

namespace {

// Directory holding this plugin (the backend lives beside it).
std::string plugin_directory()
{
  Dl_info info;
  if (dladdr((void *) &lammpsplugin_init, &info) == 0 || info.dli_fname == nullptr) return ".";
  std::string path = info.dli_fname;
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

}    // namespace

std::string LAMMPS_NS::geodl_load_backend(GeoDLBackend &b)
{
  const std::string path = plugin_directory() + "/libgeodl_backend.so";
  dlerror();
  // RTLD_DEEPBIND: libtorch must call its own BLAS. liblammps.so exports a reference
  // dgemm_ too, and without deep binding libtorch's float64 matrix products resolve to
  // it (3x slower models).
  b.dso = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  if (b.dso == nullptr) {
    const char *why = dlerror();
    return "cannot load the libtorch half of the plugin " + path + ": " +
        (why ? why : "unknown dlopen error");
  }
  auto sym = [&](const char *name) { return dlsym(b.dso, name); };
  b.abi = (int (*)()) sym("geodl_backend_abi");
  b.torch_version = (const char *(*) ()) sym("geodl_backend_torch_version");
  b.set_num_threads = (void (*)(int)) sym("geodl_backend_set_num_threads");
  b.get_num_threads = (int (*)()) sym("geodl_backend_get_num_threads");
  b.open = (void *(*) (const char *, char *, int)) sym("geodl_model_open");
  b.close = (void (*)(void *)) sym("geodl_model_close");
  b.meta = (decltype(b.meta)) sym("geodl_model_meta");
  b.compute = (decltype(b.compute)) sym("geodl_model_compute");
  b.mp_info = (decltype(b.mp_info)) sym("geodl_model_mp_info");
  b.mp_forward = (decltype(b.mp_forward)) sym("geodl_model_mp_forward");
  b.mp_backward = (decltype(b.mp_backward)) sym("geodl_model_mp_backward");
  if (!b.abi || !b.torch_version || !b.set_num_threads || !b.get_num_threads || !b.open ||
      !b.close || !b.meta || !b.compute || !b.mp_info || !b.mp_forward || !b.mp_backward)
    return path + " lacks geodl backend symbols (a stale or foreign file)";
  if (b.abi() != GEODL_BACKEND_ABI)
    return path + " speaks backend interface " + std::to_string(b.abi()) + ", this plugin " +
        std::to_string(GEODL_BACKEND_ABI) + " (a half-finished build)";
  return "";
}

/* ---------------------------------------------------------------------- */

static Pair *geodl_creator(LAMMPS *lmp)
{
  return new PairGeoDL(lmp);
}

extern "C" void lammpsplugin_init(void *lmp_ptr, void *handle, void *regfunc)
{
  auto *lmp = (LAMMPS *) lmp_ptr;
  // Another LAMMPS (even another update of the same stable release, which keeps the
  // numeric version) may lay out the Pair class differently: registering would risk
  // a crash, so the style stays unknown and the reason is logged.
  const std::string built_git = GEODL_LAMMPS_GIT;
  const bool same_git = built_git.empty() || !LAMMPS::has_git_info() ||
      built_git == LAMMPS::git_descriptor();
  if (lmp->num_ver != GEODL_LAMMPS_NUM_VER || !same_git) {
    if (lmp->comm->me == 0)
      utils::logmesg(lmp,
                     "WARNING: the geodl plugin was built for LAMMPS {} ({}) but this is "
                     "LAMMPS {} ({}); pair_style geodl is not available until you run "
                     "'geodl lammps build'\n",
                     GEODL_LAMMPS_NUM_VER, built_git, lmp->num_ver,
                     LAMMPS::has_git_info() ? LAMMPS::git_descriptor() : "");
    return;
  }
  geodl_lammpsplugin_t plugin;
  plugin.version = lmp->version;
  plugin.style = "pair";
  plugin.name = "geodl";
  plugin.info = "geodl " GEODL_VERSION " pair style (machine-learned potentials, libtorch)";
  plugin.author = "geodl developers";
  plugin.creator.v1 = (geodl_lammpsplugin_factory1 *) &geodl_creator;
  plugin.handle = handle;
  (*(geodl_lammpsplugin_regfunc) regfunc)(&plugin, lmp);
}

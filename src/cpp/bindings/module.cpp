// The private pybind11 module `person_segmentation._core`: a thin layer over the C++ core.
// It converts numpy arrays (and DLPack capsules) to views (checking dtype, rank and strides),
// allocates the results, and releases the GIL while the kernels run. All validation of sizes
// and options happens in the C++ core, whose std::invalid_argument becomes a Python ValueError.
// Each area is registered by its own register_*.cpp (bindings.hpp).
#include <pybind11/pybind11.h>

#include "bindings.hpp"

// Set by CMake from src/python/person_segmentation/_version.py.
#ifndef PERSON_SEGMENTATION_VERSION
#error "PERSON_SEGMENTATION_VERSION must be defined (CMake passes it to the module)"
#endif

PYBIND11_MODULE(_core, m) {
  namespace b = person_segmentation::bindings;
  m.doc() = "Native post-processing core of person_segmentation (private; use the Python API).";
  m.attr("__version__") = PERSON_SEGMENTATION_VERSION;

  b::register_constants(m);
  b::register_geometry(m);  // before the functions whose signatures name ResizePadGeometry
  b::register_postprocess(m);
  b::register_dlpack(m);
  b::register_preprocess(m);
  b::register_bodypix(m);
  b::register_runtime(m);
}

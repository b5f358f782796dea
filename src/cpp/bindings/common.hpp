// Helpers shared by the register_*.cpp files of the bindings: numpy arrays to views (checking
// dtype, rank and strides), the post-processing options, and running a kernel into a newly
// allocated result without the GIL.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "person_segmentation/geometry.hpp"
#include "person_segmentation/postprocess.hpp"

namespace person_segmentation::bindings {

namespace py = pybind11;

/// A numpy shape as Python prints it: "(2, 3)", "(5,)".
inline std::string shape_string(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    if (i) s += ", ";
    s += std::to_string(a.shape(i));
  }
  return s + (a.ndim() == 1 ? ",)" : ")");
}

/// A (h, w, c) view of a float32 numpy array; a 2-D array is read as (h, w, 1) when
/// `allow_2d`. Raises TypeError for another dtype and ValueError for another rank.
inline FloatTensorView view_of(const py::array& a, const char* name, bool allow_2d) {
  if (!a.dtype().equal(py::dtype::of<float>())) {
    throw py::type_error(std::string(name) + " must be a float32 array, got dtype " + std::string(py::str(a.dtype())));
  }
  if (!(a.ndim() == 3 || (allow_2d && a.ndim() == 2))) {
    throw py::value_error(std::string(name) +
                          (allow_2d ? " must have shape (h, w) or (h, w, 1)" : " must have shape (h, w, channels)") +
                          ", got shape " + shape_string(a));
  }
  constexpr py::ssize_t item = static_cast<py::ssize_t>(sizeof(float));
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    if (a.strides(i) % item != 0) {
      throw py::value_error(std::string(name) + " has a stride that is not a multiple of 4 bytes (misaligned view)");
    }
  }
  FloatTensorView v;
  v.data = static_cast<const float*>(a.data());
  v.height = a.shape(0);
  v.width = a.shape(1);
  v.stride_height = a.strides(0) / item;
  v.stride_width = a.strides(1) / item;
  if (a.ndim() == 3) {
    v.channels = a.shape(2);
    v.stride_channels = a.strides(2) / item;
  } else {
    v.channels = 1;
    v.stride_channels = 1;
  }
  return v;
}

/// "cpu" or "cuda"; raises ValueError for anything else.
inline Device device_of(const std::string& device) {
  if (device == "cpu") return Device::kCpu;
  if (device == "cuda") return Device::kCuda;
  throw py::value_error("device must be 'cpu' or 'cuda', got '" + device + "'");
}

inline PostprocessOptions options_of(double threshold, bool flip_horizontal, int num_threads,
                                     const std::string& device = "cpu") {
  PostprocessOptions o;
  o.segmentation_threshold = static_cast<float>(threshold);
  o.flip_horizontal = flip_horizontal;
  o.num_threads = num_threads;
  o.compute_device = device_of(device);
  return o;
}

/// Allocates the (image_height, image_width) result, then runs `fill(result_data)` without the
/// GIL. The geometry is validated first, since the result's size comes from it.
template <typename T, typename Fill>
py::array_t<T> compute(const ResizePadGeometry& geometry, const Fill& fill) {
  validate_geometry(geometry);
  py::array_t<T> out({static_cast<py::ssize_t>(geometry.image_height), static_cast<py::ssize_t>(geometry.image_width)});
  T* dst = out.mutable_data();
  {
    py::gil_scoped_release release;
    fill(dst);
  }
  return out;
}

}  // namespace person_segmentation::bindings

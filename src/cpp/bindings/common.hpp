// Helpers shared by the register_*.cpp files of the bindings: numpy arrays to views (checking
// dtype, rank and strides), the post-processing options, and running a kernel into a newly
// allocated result without the GIL.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "person_segmentation/geometry.hpp"
#include "person_segmentation/postprocess.hpp"
#include "person_segmentation/preprocess.hpp"

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

/// A (h, w, 3) view of a uint8 or float32 numpy image (any strides). Raises TypeError for
/// another dtype and ValueError for another shape.
inline ImageView rgb_view_of(const py::array& a, const char* name) {
  ImageView v;
  py::ssize_t item = 1;
  if (a.dtype().equal(py::dtype::of<uint8_t>())) {
    v.type = PixelType::kUint8;
  } else if (a.dtype().equal(py::dtype::of<float>())) {
    v.type = PixelType::kFloat32;
    item = static_cast<py::ssize_t>(sizeof(float));
  } else {
    throw py::type_error(std::string(name) + " must be a uint8 or float32 array, got dtype " +
                         std::string(py::str(a.dtype())));
  }
  if (a.ndim() != 3 || a.shape(2) != 3)
    throw py::value_error(std::string(name) + " must have shape (H, W, 3), got shape " + shape_string(a));
  for (py::ssize_t i = 0; i < 3; ++i) {
    if (a.strides(i) % item != 0)
      throw py::value_error(std::string(name) +
                            " has a stride that is not a multiple of its item size (misaligned view)");
  }
  v.data = a.data();
  v.height = a.shape(0);
  v.width = a.shape(1);
  v.channels = 3;
  v.stride_height = a.strides(0) / item;
  v.stride_width = a.strides(1) / item;
  v.stride_channels = a.strides(2) / item;
  return v;
}

/// `out` checked as the destination of a float32 (h, w, 3) network input (or (1, h, w, 3)),
/// or a new array when it is None.
inline py::array_t<float> rgb_destination(const py::object& out, py::ssize_t h, py::ssize_t w) {
  if (out.is_none()) return py::array_t<float>({h, w, py::ssize_t{3}});
  if (!py::isinstance<py::array>(out)) throw py::type_error("out must be None or a float32 numpy array");
  py::array given = py::reinterpret_borrow<py::array>(out);
  if (!given.dtype().equal(py::dtype::of<float>()))
    throw py::type_error("out must be a float32 array, got dtype " + std::string(py::str(given.dtype())));
  const bool shape_ok =
      (given.ndim() == 3 && given.shape(0) == h && given.shape(1) == w && given.shape(2) == 3) ||
      (given.ndim() == 4 && given.shape(0) == 1 && given.shape(1) == h && given.shape(2) == w && given.shape(3) == 3);
  if (!shape_ok)
    throw py::value_error("out must have shape (" + std::to_string(h) + ", " + std::to_string(w) + ", 3) or (1, " +
                          std::to_string(h) + ", " + std::to_string(w) + ", 3), got " + shape_string(given));
  if (!(given.flags() & py::array::c_style)) throw py::value_error("out must be C-contiguous");
  if (!given.writeable()) throw py::value_error("out must be writeable");
  return py::reinterpret_borrow<py::array_t<float>>(given);
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

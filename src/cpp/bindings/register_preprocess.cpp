// resize_pad_normalize: the model input of an image, written into `out` (allocated when None).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "bindings.hpp"
#include "common.hpp"
#include "person_segmentation/preprocess.hpp"

namespace person_segmentation::bindings {
namespace {

/// A (h, w, 3) view of a uint8 or float32 numpy image (any strides). Raises TypeError for
/// another dtype and ValueError for another shape.
ImageView image_view_of(const py::array& a) {
  ImageView v;
  py::ssize_t item = 1;
  if (a.dtype().equal(py::dtype::of<uint8_t>())) {
    v.type = PixelType::kUint8;
  } else if (a.dtype().equal(py::dtype::of<float>())) {
    v.type = PixelType::kFloat32;
    item = static_cast<py::ssize_t>(sizeof(float));
  } else {
    throw py::type_error("image must be a uint8 or float32 array, got dtype " + std::string(py::str(a.dtype())));
  }
  if (a.ndim() != 3 || a.shape(2) != 3)
    throw py::value_error("image must have shape (H, W, 3), got shape " + shape_string(a));
  for (py::ssize_t i = 0; i < 3; ++i) {
    if (a.strides(i) % item != 0)
      throw py::value_error("image has a stride that is not a multiple of its item size (misaligned view)");
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

/// `out` checked as the destination of the (model_height, model_width, 3) model input, or a
/// new array when it is None.
py::array_t<float> destination(const py::object& out, py::ssize_t mh, py::ssize_t mw) {
  if (out.is_none()) return py::array_t<float>({mh, mw, py::ssize_t{3}});
  if (!py::isinstance<py::array>(out)) throw py::type_error("out must be None or a float32 numpy array");
  py::array given = py::reinterpret_borrow<py::array>(out);
  if (!given.dtype().equal(py::dtype::of<float>()))
    throw py::type_error("out must be a float32 array, got dtype " + std::string(py::str(given.dtype())));
  const bool shape_ok =
      (given.ndim() == 3 && given.shape(0) == mh && given.shape(1) == mw && given.shape(2) == 3) ||
      (given.ndim() == 4 && given.shape(0) == 1 && given.shape(1) == mh && given.shape(2) == mw && given.shape(3) == 3);
  if (!shape_ok)
    throw py::value_error("out must have shape (" + std::to_string(mh) + ", " + std::to_string(mw) + ", 3) or (1, " +
                          std::to_string(mh) + ", " + std::to_string(mw) + ", 3), got " + shape_string(given));
  if (!(given.flags() & py::array::c_style)) throw py::value_error("out must be C-contiguous");
  if (!given.writeable()) throw py::value_error("out must be writeable");
  return py::reinterpret_borrow<py::array_t<float>>(given);
}

}  // namespace

void register_preprocess(py::module_& m) {
  m.def(
      "resize_pad_normalize",
      [](const py::array& image, const ResizePadGeometry& geometry, bool flip_horizontal, const py::object& out,
         int num_threads) -> py::array {
        const ImageView view = image_view_of(image);
        validate_geometry(geometry);
        py::array_t<float> result = destination(out, geometry.model_height, geometry.model_width);
        PreprocessOptions options;
        options.flip_horizontal = flip_horizontal;
        options.num_threads = num_threads;
        float* dst = result.mutable_data();
        {
          py::gil_scoped_release release;
          resize_pad_normalize(view, geometry, options, dst);
        }
        return result;
      },
      "(H, W, 3) uint8/float32 pixels -> the float32 (353, 257, 3) model input (or ``out``, (353, 257, 3) or "
      "(1, 353, 257, 3), C-contiguous and writeable): TensorFlow's legacy bilinear resize, zero padding and "
      "x / 127.5 - 1, mirrored first with flip_horizontal.",
      py::arg("image"), py::arg("geometry"), py::kw_only(), py::arg("flip_horizontal") = false,
      py::arg("out") = py::none(), py::arg("num_threads") = 1);
}

}  // namespace person_segmentation::bindings

// resize_pad_normalize: the model input of an image, written into `out` (allocated when None).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "bindings.hpp"
#include "common.hpp"
#include "person_segmentation/preprocess.hpp"

namespace person_segmentation::bindings {

void register_preprocess(py::module_& m) {
  m.def(
      "resize_pad_normalize",
      [](const py::array& image, const ResizePadGeometry& geometry, bool flip_horizontal, const py::object& out,
         int num_threads) -> py::array {
        const ImageView view = rgb_view_of(image, "image");
        validate_geometry(geometry);
        py::array_t<float> result = rgb_destination(out, geometry.model_height, geometry.model_width);
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

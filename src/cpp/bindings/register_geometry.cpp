// ResizePadGeometry and compute_geometry.
#include <pybind11/pybind11.h>

#include "bindings.hpp"
#include "person_segmentation/constants.hpp"
#include "person_segmentation/geometry.hpp"

namespace person_segmentation::bindings {

namespace py = pybind11;

void register_geometry(py::module_& m) {
  using G = ResizePadGeometry;
  py::class_<G>(m, "ResizePadGeometry",
                "How an image is resized (keeping aspect) and zero-padded to the model input.\n\n"
                "The padded model input holds the resized image at rows [pad_top, pad_top + resized_height) "
                "and columns [pad_left, pad_left + resized_width). Immutable; compute_geometry() makes the "
                "original's one.")
      .def(py::init([](int32_t image_height, int32_t image_width, int32_t model_height, int32_t model_width,
                       int32_t resized_height, int32_t resized_width, int32_t pad_top, int32_t pad_bottom,
                       int32_t pad_left, int32_t pad_right) {
             G g{image_height,  image_width, model_height, model_width, resized_height,
                 resized_width, pad_top,     pad_bottom,   pad_left,    pad_right};
             validate_geometry(g);
             return g;
           }),
           "A geometry from its fields; ValueError unless they are self-consistent (sizes in "
           "[1, MAX_IMAGE_SIDE], pads >= 0 that add up to the model size).",
           py::kw_only(), py::arg("image_height"), py::arg("image_width"), py::arg("model_height"),
           py::arg("model_width"), py::arg("resized_height"), py::arg("resized_width"), py::arg("pad_top"),
           py::arg("pad_bottom"), py::arg("pad_left"), py::arg("pad_right"))
      .def_readonly("image_height", &G::image_height, "Rows of the original image.")
      .def_readonly("image_width", &G::image_width, "Columns of the original image.")
      .def_readonly("model_height", &G::model_height, "Rows of the model input (353).")
      .def_readonly("model_width", &G::model_width, "Columns of the model input (257).")
      .def_readonly("resized_height", &G::resized_height, "Rows of the image resized into the model input.")
      .def_readonly("resized_width", &G::resized_width, "Columns of the image resized into the model input.")
      .def_readonly("pad_top", &G::pad_top, "Padding rows above the resized image.")
      .def_readonly("pad_bottom", &G::pad_bottom, "Padding rows below the resized image.")
      .def_readonly("pad_left", &G::pad_left, "Padding columns left of the resized image.")
      .def_readonly("pad_right", &G::pad_right, "Padding columns right of the resized image.")
      .def(
          "__eq__", [](const G& a, const G& b) { return a == b; }, "Whether every field is equal.")
      .def(
          "__hash__",
          [](const G& g) {
            return py::hash(py::make_tuple(g.image_height, g.image_width, g.model_height, g.model_width,
                                           g.resized_height, g.resized_width, g.pad_top, g.pad_bottom, g.pad_left,
                                           g.pad_right));
          },
          "The hash of the tuple of the fields.")
      .def(
          "__repr__", [](const G& g) { return to_string(g); }, "ResizePadGeometry(image=HxW, model=HxW, ...).");

  m.def("compute_geometry", &compute_geometry,
        "The original's resize-and-pad rule (with the BodyPix 1.0 portrait fix), in the same double-precision "
        "arithmetic as JavaScript. ValueError when a size is < 1 or > MAX_IMAGE_SIDE.",
        py::arg("image_height"), py::arg("image_width"), py::arg("model_height") = kModelHeight,
        py::arg("model_width") = kModelWidth);
}

}  // namespace person_segmentation::bindings

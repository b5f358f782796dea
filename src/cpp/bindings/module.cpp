// The private pybind11 module `person_segmentation._core`: a thin layer over the C++ core.
// It converts numpy arrays to views (checking dtype, rank and strides), allocates the
// results, and releases the GIL while the kernels run. All validation of sizes and options
// happens in the C++ core, whose std::invalid_argument becomes a Python ValueError.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "person_segmentation/person_segmentation.hpp"

namespace py = pybind11;
namespace ps = person_segmentation;

namespace {

std::string shape_string(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    if (i) s += ", ";
    s += std::to_string(a.shape(i));
  }
  return s + (a.ndim() == 1 ? ",)" : ")");
}

/// A (h, w, c) view of a float32 numpy array; a 2-D array is read as (h, w, 1) when
/// `allow_2d`. Raises TypeError for another dtype and ValueError for another rank.
ps::FloatTensorView view_of(const py::array& a, const char* name, bool allow_2d) {
  if (!a.dtype().is(py::dtype::of<float>())) {
    throw py::type_error(std::string(name) + " must be a float32 array, got dtype " +
                         std::string(py::str(a.dtype())));
  }
  if (!(a.ndim() == 3 || (allow_2d && a.ndim() == 2))) {
    throw py::value_error(std::string(name) + (allow_2d ? " must have shape (h, w) or (h, w, 1)" : " must have shape (h, w, channels)") +
                          ", got shape " + shape_string(a));
  }
  constexpr py::ssize_t item = static_cast<py::ssize_t>(sizeof(float));
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    if (a.strides(i) % item != 0) {
      throw py::value_error(std::string(name) + " has a stride that is not a multiple of 4 bytes (misaligned view)");
    }
  }
  ps::FloatTensorView v;
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

ps::PostprocessOptions options_of(double threshold, bool flip_horizontal, int num_threads) {
  ps::PostprocessOptions o;
  o.segmentation_threshold = static_cast<float>(threshold);
  o.flip_horizontal = flip_horizontal;
  o.num_threads = num_threads;
  return o;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "Native post-processing core of person_segmentation (private; use the Python API).";
  m.attr("__version__") = std::to_string(PERSON_SEGMENTATION_VERSION_MAJOR) + "." +
                          std::to_string(PERSON_SEGMENTATION_VERSION_MINOR) + "." +
                          std::to_string(PERSON_SEGMENTATION_VERSION_PATCH);

  py::class_<ps::ResizePadGeometry>(m, "ResizePadGeometry")
      .def(py::init([](int32_t image_height, int32_t image_width, int32_t model_height,
                       int32_t model_width, int32_t resized_height, int32_t resized_width,
                       int32_t pad_top, int32_t pad_bottom, int32_t pad_left, int32_t pad_right) {
             ps::ResizePadGeometry g{image_height, image_width, model_height, model_width,
                                     resized_height, resized_width, pad_top, pad_bottom,
                                     pad_left, pad_right};
             ps::validate_geometry(g);
             return g;
           }),
           py::kw_only(), py::arg("image_height"), py::arg("image_width"), py::arg("model_height"),
           py::arg("model_width"), py::arg("resized_height"), py::arg("resized_width"),
           py::arg("pad_top"), py::arg("pad_bottom"), py::arg("pad_left"), py::arg("pad_right"))
      .def_readonly("image_height", &ps::ResizePadGeometry::image_height)
      .def_readonly("image_width", &ps::ResizePadGeometry::image_width)
      .def_readonly("model_height", &ps::ResizePadGeometry::model_height)
      .def_readonly("model_width", &ps::ResizePadGeometry::model_width)
      .def_readonly("resized_height", &ps::ResizePadGeometry::resized_height)
      .def_readonly("resized_width", &ps::ResizePadGeometry::resized_width)
      .def_readonly("pad_top", &ps::ResizePadGeometry::pad_top)
      .def_readonly("pad_bottom", &ps::ResizePadGeometry::pad_bottom)
      .def_readonly("pad_left", &ps::ResizePadGeometry::pad_left)
      .def_readonly("pad_right", &ps::ResizePadGeometry::pad_right)
      .def("__eq__", [](const ps::ResizePadGeometry& a, const ps::ResizePadGeometry& b) { return a == b; })
      .def("__hash__", [](const ps::ResizePadGeometry& g) {
        return py::hash(py::make_tuple(g.image_height, g.image_width, g.model_height, g.model_width,
                                       g.resized_height, g.resized_width, g.pad_top, g.pad_bottom,
                                       g.pad_left, g.pad_right));
      })
      .def("__repr__", [](const ps::ResizePadGeometry& g) { return ps::to_string(g); });

  m.def("compute_geometry", &ps::compute_geometry, py::arg("image_height"), py::arg("image_width"),
        py::arg("model_height") = ps::kModelHeight, py::arg("model_width") = ps::kModelWidth);

  m.def(
      "person_mask",
      [](const py::array& segment_logits, const ps::ResizePadGeometry& geometry, double threshold,
         bool flip_horizontal, int num_threads) {
        const ps::FloatTensorView seg = view_of(segment_logits, "segment_logits", true);
        const ps::PostprocessOptions options = options_of(threshold, flip_horizontal, num_threads);
        ps::validate_geometry(geometry);  // before the output is allocated from its sizes
        py::array_t<uint8_t> out({static_cast<py::ssize_t>(geometry.image_height),
                                  static_cast<py::ssize_t>(geometry.image_width)});
        uint8_t* dst = out.mutable_data();
        {
          py::gil_scoped_release release;
          ps::person_mask(seg, geometry, options, dst);
        }
        return out;
      },
      py::arg("segment_logits"), py::arg("geometry"), py::kw_only(),
      py::arg("segmentation_threshold") = 0.5, py::arg("flip_horizontal") = false,
      py::arg("num_threads") = 0);

  m.def(
      "part_segmentation",
      [](const py::array& segment_logits, const py::array& part_logits,
         const ps::ResizePadGeometry& geometry, double threshold, bool flip_horizontal,
         int num_threads) {
        const ps::FloatTensorView seg = view_of(segment_logits, "segment_logits", true);
        const ps::FloatTensorView parts = view_of(part_logits, "part_logits", false);
        const ps::PostprocessOptions options = options_of(threshold, flip_horizontal, num_threads);
        ps::validate_geometry(geometry);  // before the output is allocated from its sizes
        py::array_t<int32_t> out({static_cast<py::ssize_t>(geometry.image_height),
                                  static_cast<py::ssize_t>(geometry.image_width)});
        int32_t* dst = out.mutable_data();
        {
          py::gil_scoped_release release;
          ps::part_segmentation(seg, parts, geometry, options, dst);
        }
        return out;
      },
      py::arg("segment_logits"), py::arg("part_logits"), py::arg("geometry"), py::kw_only(),
      py::arg("segmentation_threshold") = 0.5, py::arg("flip_horizontal") = false,
      py::arg("num_threads") = 0);

  m.def("default_num_threads", &ps::default_num_threads);
  m.def("build_summary", &ps::build_summary);
}

// person_mask and part_segmentation of numpy logits.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "bindings.hpp"
#include "common.hpp"
#include "person_segmentation/postprocess.hpp"

namespace person_segmentation::bindings {

void register_postprocess(py::module_& m) {
  m.def(
      "person_mask",
      [](const py::array& segment_logits, const ResizePadGeometry& geometry, double threshold, bool flip_horizontal,
         int num_threads, const std::string& device) {
        const FloatTensorView seg = view_of(segment_logits, "segment_logits", true);
        const PostprocessOptions options = options_of(threshold, flip_horizontal, num_threads, device);
        return compute<uint8_t>(geometry, [&](uint8_t* dst) { person_mask(seg, geometry, options, dst); });
      },
      "The person mask of the network's float32 segment logits, (h, w) or (h, w, 1): a uint8 "
      "(image_height, image_width) array, 1 where the sigmoid score is strictly above "
      "segmentation_threshold. device 'cuda' runs the CUDA kernels (RuntimeError when there are none).",
      py::arg("segment_logits"), py::arg("geometry"), py::kw_only(), py::arg("segmentation_threshold") = 0.5,
      py::arg("flip_horizontal") = false, py::arg("num_threads") = 0, py::arg("device") = "cpu");

  m.def(
      "part_segmentation",
      [](const py::array& segment_logits, const py::array& part_logits, const ResizePadGeometry& geometry,
         double threshold, bool flip_horizontal, int num_threads, const std::string& device) {
        const FloatTensorView seg = view_of(segment_logits, "segment_logits", true);
        const FloatTensorView parts = view_of(part_logits, "part_logits", false);
        const PostprocessOptions options = options_of(threshold, flip_horizontal, num_threads, device);
        return compute<int32_t>(geometry, [&](int32_t* dst) { part_segmentation(seg, parts, geometry, options, dst); });
      },
      "The body-part map of the segment logits and the float32 (h, w, parts) part logits: an int32 "
      "(image_height, image_width) array of part ids (the first best on a tie), -1 where there is no "
      "person. At most MAX_PART_CHANNELS parts (32 on CUDA).",
      py::arg("segment_logits"), py::arg("part_logits"), py::arg("geometry"), py::kw_only(),
      py::arg("segmentation_threshold") = 0.5, py::arg("flip_horizontal") = false, py::arg("num_threads") = 0,
      py::arg("device") = "cpu");

  m.def(
      "person_probability",
      [](const py::array& segment_logits, const ResizePadGeometry& geometry, double threshold, bool flip_horizontal,
         int num_threads, const std::string& device) {
        const FloatTensorView seg = view_of(segment_logits, "segment_logits", true);
        const PostprocessOptions options = options_of(threshold, flip_horizontal, num_threads, device);
        validate_geometry(geometry);
        const py::ssize_t h = geometry.image_height;
        const py::ssize_t w = geometry.image_width;
        py::array_t<uint8_t> mask({h, w});
        py::array_t<float> probability({h, w});
        uint8_t* mask_data = mask.mutable_data();
        float* probability_data = probability.mutable_data();
        {
          py::gil_scoped_release release;
          person_probability(seg, geometry, options, probability_data, mask_data);
        }
        return py::make_tuple(mask, probability);
      },
      "(mask, probability) of the segment logits in one pass: the uint8 mask as person_mask, and the "
      "float32 (image_height, image_width) person probability in [0, 1] it thresholds "
      "(mask == probability > segmentation_threshold).",
      py::arg("segment_logits"), py::arg("geometry"), py::kw_only(), py::arg("segmentation_threshold") = 0.5,
      py::arg("flip_horizontal") = false, py::arg("num_threads") = 0, py::arg("device") = "cpu");

  m.def(
      "part_segmentation_with_probability",
      [](const py::array& segment_logits, const py::array& part_logits, const ResizePadGeometry& geometry,
         double threshold, bool flip_horizontal, int num_threads, const std::string& device) {
        const FloatTensorView seg = view_of(segment_logits, "segment_logits", true);
        const FloatTensorView parts = view_of(part_logits, "part_logits", false);
        const PostprocessOptions options = options_of(threshold, flip_horizontal, num_threads, device);
        validate_geometry(geometry);
        const py::ssize_t h = geometry.image_height;
        const py::ssize_t w = geometry.image_width;
        py::array_t<int32_t> out({h, w});
        py::array_t<float> probability({h, w});
        int32_t* out_data = out.mutable_data();
        float* probability_data = probability.mutable_data();
        {
          py::gil_scoped_release release;
          part_segmentation_with_probability(seg, parts, geometry, options, out_data, probability_data);
        }
        return py::make_tuple(out, probability);
      },
      "(parts, probability): the part map as part_segmentation and the float32 person probability, "
      "computed in the same pass.",
      py::arg("segment_logits"), py::arg("part_logits"), py::arg("geometry"), py::kw_only(),
      py::arg("segmentation_threshold") = 0.5, py::arg("flip_horizontal") = false, py::arg("num_threads") = 0,
      py::arg("device") = "cpu");
}

}  // namespace person_segmentation::bindings

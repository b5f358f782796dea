// The BodyPix 2 entry points (bodypix.hpp): bodypix_preprocess, bodypix_scale_back,
// bodypix_decode_poses and bodypix_decode_instances. `heads` is a float32 (outH, outW, 174)
// numpy array (any strides), or a DLPack tensor (a "dltensor" capsule or an object with
// __dlpack__) in CPU or CUDA memory: on a CUDA device the per-pixel kernels run there.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "bindings.hpp"
#include "common.hpp"
#include "dlpack_tensor.hpp"
#include "person_segmentation/bodypix.hpp"
#include "person_segmentation/constants.hpp"

namespace person_segmentation::bindings {
namespace {

namespace bp = person_segmentation::bodypix;

/// The heads argument, viewed: a numpy array kept alive, or a consumed DLPack tensor whose
/// deleter runs when this goes away.
class Heads {
 public:
  explicit Heads(const py::object& heads) {
    if (py::isinstance<py::array>(heads)) {
      array_ = py::reinterpret_borrow<py::array>(heads);
      view_ = view_of(array_, "heads", false);
      return;
    }
    py::object capsule = heads;
    if (!py::isinstance<py::capsule>(heads)) {
      if (!py::hasattr(heads, "__dlpack__"))
        throw py::type_error("heads must be a float32 numpy array or a DLPack tensor, got " +
                             std::string(py::str(py::type::of(heads).attr("__name__"))));
      capsule = heads.attr("__dlpack__")();
      if (!py::isinstance<py::capsule>(capsule)) throw py::type_error("heads.__dlpack__() did not return a capsule");
    }
    tensor_.take(py::reinterpret_borrow<py::capsule>(capsule), "heads", "(outH, outW, 174)");
    view_ = tensor_.view();
  }
  Heads(const Heads&) = delete;
  Heads& operator=(const Heads&) = delete;
  const FloatTensorView& view() const { return view_; }

 private:
  py::array array_;
  FloatTensorView view_;
  DlpackTensor tensor_;
};

int32_t side_of(const char* name, int64_t v) {
  if (v < 1 || v > kMaxImageSide)
    throw py::value_error(std::string(name) + " must be in [1, " + std::to_string(kMaxImageSide) + "], got " +
                          std::to_string(v));
  return static_cast<int32_t>(v);
}

bp::Geometry geometry_of(int64_t image_height, int64_t image_width, int64_t input_height, int64_t input_width,
                         const py::object& padding) {
  bp::Geometry g;
  g.image_height = side_of("image_height", image_height);
  g.image_width = side_of("image_width", image_width);
  g.input_height = side_of("input_height", input_height);
  g.input_width = side_of("input_width", input_width);
  if (!py::isinstance<py::sequence>(padding) || py::isinstance<py::str>(padding) || py::len(padding) != 4)
    throw py::type_error("padding must be a sequence of 4 ints (top, bottom, left, right), got " +
                         std::string(py::repr(padding)));
  const py::sequence seq = py::reinterpret_borrow<py::sequence>(padding);
  int32_t pads[4];
  const char* names[4] = {"top", "bottom", "left", "right"};
  for (size_t i = 0; i < 4; ++i) {
    const py::object item = seq[i];
    if (py::isinstance<py::bool_>(item) || !py::isinstance<py::int_>(item))
      throw py::type_error("padding must be a sequence of 4 ints (top, bottom, left, right), got " +
                           std::string(py::repr(padding)));
    const long long v = PyLong_AsLongLong(item.ptr());
    if (v == -1 && PyErr_Occurred()) {
      PyErr_Clear();
      throw py::value_error(std::string("padding ") + names[i] + " is out of range");
    }
    if (v < 0 || v > kMaxImageSide)
      throw py::value_error(std::string("padding ") + names[i] + " must be in [0, " + std::to_string(kMaxImageSide) +
                            "], got " + std::to_string(v));
    pads[i] = static_cast<int32_t>(v);
  }
  g.pad_top = pads[0];
  g.pad_bottom = pads[1];
  g.pad_left = pads[2];
  g.pad_right = pads[3];
  return g;
}

int32_t int32_of(const char* name, int64_t v) {
  if (v < INT32_MIN || v > INT32_MAX)
    throw py::value_error(std::string(name) + " is out of range: " + std::to_string(v));
  return static_cast<int32_t>(v);
}

}  // namespace

void register_bodypix(py::module_& m) {
  m.attr("BODYPIX_HEADS_CHANNELS") = bp::kHeadsChannels;

  m.def(
      "bodypix_preprocess",
      [](const py::array& pixels, int64_t input_height, int64_t input_width, const py::object& padding,
         const py::object& out, int num_threads) -> py::array {
        const ImageView view = rgb_view_of(pixels, "pixels");
        const bp::Geometry g = geometry_of(view.height, view.width, input_height, input_width, padding);
        py::array_t<float> result = rgb_destination(out, g.input_height, g.input_width);
        float* dst = result.mutable_data();
        {
          py::gil_scoped_release release;
          bp::preprocess(view, g, num_threads, dst);
        }
        return result;
      },
      "BodyPix 2 network input: (H, W, 3) uint8/float32 pixels (float: NaN -> 0, clipped to [0, 255]) zero-padded by "
      "padding = (top, bottom, left, right), resized with tfjs' resizeBilinear (align_corners=False) to "
      "(input_height, input_width) and normalised f32(f32(v / 127.5) - 1). Returns float32 (input_height, "
      "input_width, 3), or fills ``out``.",
      py::arg("pixels"), py::kw_only(), py::arg("input_height"), py::arg("input_width"), py::arg("padding"),
      py::arg("out") = py::none(), py::arg("num_threads") = 0);

  m.def(
      "bodypix_scale_back",
      [](const py::object& heads, int64_t image_height, int64_t image_width, int64_t input_height, int64_t input_width,
         const py::object& padding, double threshold, bool parts, bool probability, int num_threads) {
        const Heads h(heads);
        const bp::Geometry g = geometry_of(image_height, image_width, input_height, input_width, padding);
        const py::ssize_t rows = g.image_height, cols = g.image_width;
        py::array_t<uint8_t> mask({rows, cols});
        py::object parts_out = py::none(), prob_out = py::none();
        int32_t* parts_ptr = nullptr;
        float* prob_ptr = nullptr;
        if (parts) {
          py::array_t<int32_t> a({rows, cols});
          parts_ptr = a.mutable_data();
          parts_out = a;
        }
        if (probability) {
          py::array_t<float> a({rows, cols});
          prob_ptr = a.mutable_data();
          prob_out = a;
        }
        bp::ScaleBackOptions options;
        options.threshold = threshold;
        options.num_threads = num_threads;
        uint8_t* mask_ptr = mask.mutable_data();
        {
          py::gil_scoped_release release;
          bp::scale_back(h.view(), g, options, mask_ptr, parts_ptr, prob_ptr);
        }
        return py::make_tuple(mask, parts_out, prob_out);
      },
      "BodyPix 2 scale-back (spec sections 6-8) of the (outH, outW, 174) heads: align-corners resize of the logits to "
      "(input_height, input_width), sigmoid, crop-and-resize to the image with the float32 box. Returns (mask uint8 "
      "(H, W) 0/1 with score > f32(threshold), parts int32 (H, W) 0..23 in the mask and -1 outside or None, "
      "probability float32 (H, W) or None).",
      py::arg("heads"), py::kw_only(), py::arg("image_height"), py::arg("image_width"), py::arg("input_height"),
      py::arg("input_width"), py::arg("padding"), py::arg("threshold"), py::arg("parts") = false,
      py::arg("probability") = false, py::arg("num_threads") = 0);

  m.def(
      "bodypix_decode_poses",
      [](const py::object& heads, int64_t output_stride, int64_t max_detections, double score_threshold,
         double nms_radius, int64_t image_height, int64_t image_width, int64_t input_height, int64_t input_width,
         const py::object& padding) {
        const Heads h(heads);
        const bp::Geometry g = geometry_of(image_height, image_width, input_height, input_width, padding);
        bp::PoseOptions options;
        options.output_stride = int32_of("output_stride", output_stride);
        if (max_detections < 1)
          throw py::value_error("max_detections must be >= 1, got " + std::to_string(max_detections));
        options.max_detections = static_cast<int32_t>(std::min<int64_t>(max_detections, INT32_MAX));
        options.score_threshold = score_threshold;
        options.nms_radius = nms_radius;
        bp::Poses poses;
        {
          py::gil_scoped_release release;
          poses = bp::decode_poses(h.view(), g, options);
        }
        const py::ssize_t n = static_cast<py::ssize_t>(poses.scores.size());
        py::array_t<double> keypoints({n, py::ssize_t{17}, py::ssize_t{3}});
        py::array_t<double> scores({n});
        std::copy(poses.keypoints.begin(), poses.keypoints.end(), keypoints.mutable_data());
        std::copy(poses.scores.begin(), poses.scores.end(), scores.mutable_data());
        return py::make_tuple(keypoints, scores);
      },
      "BodyPix 2 multi-pose decoding (spec sections 9-10) of the heads: returns (keypoints float64 (n, 17, 3) = [y, x, "
      "score] in image pixels, unclamped; scores float64 (n,)), in decoding order (BodyPix 2's allPoses).",
      py::arg("heads"), py::kw_only(), py::arg("output_stride"), py::arg("max_detections"), py::arg("score_threshold"),
      py::arg("nms_radius"), py::arg("image_height"), py::arg("image_width"), py::arg("input_height"),
      py::arg("input_width"), py::arg("padding"));

  m.def(
      "bodypix_decode_instances",
      [](const py::object& heads, const py::object& mask, const py::object& keypoints, int64_t output_stride,
         int64_t image_height, int64_t image_width, int64_t input_height, int64_t input_width,
         const py::object& padding, int64_t refine_steps, int num_threads) {
        const Heads h(heads);
        const bp::Geometry g = geometry_of(image_height, image_width, input_height, input_width, padding);
        if (!py::isinstance<py::array>(mask)) throw py::type_error("mask must be a uint8 numpy array");
        const py::array m = py::reinterpret_borrow<py::array>(mask);
        if (!m.dtype().equal(py::dtype::of<uint8_t>()))
          throw py::type_error("mask must be a uint8 array, got dtype " + std::string(py::str(m.dtype())));
        if (m.ndim() != 2) throw py::value_error("mask must have shape (H, W), got shape " + shape_string(m));
        if (!py::isinstance<py::array>(keypoints)) throw py::type_error("keypoints must be a float64 numpy array");
        const py::array k = py::reinterpret_borrow<py::array>(keypoints);
        if (!k.dtype().equal(py::dtype::of<double>()))
          throw py::type_error("keypoints must be a float64 array, got dtype " + std::string(py::str(k.dtype())));
        if (k.ndim() != 3 || k.shape(1) != 17 || k.shape(2) != 3)
          throw py::value_error("keypoints must have shape (n, 17, 3), got shape " + shape_string(k));
        const auto kc = py::array_t<double, py::array::c_style>::ensure(k);
        if (!kc) throw py::error_already_set();
        bp::MaskView mv;
        mv.data = static_cast<const uint8_t*>(m.data());
        mv.height = m.shape(0);
        mv.width = m.shape(1);
        mv.stride_height = m.strides(0);
        mv.stride_width = m.strides(1);
        const int32_t stride = int32_of("output_stride", output_stride);
        const int32_t steps = int32_of("refine_steps", refine_steps);
        py::array_t<int32_t> out({static_cast<py::ssize_t>(g.image_height), static_cast<py::ssize_t>(g.image_width)});
        int32_t* dst = out.mutable_data();
        const double* kp = kc.data();
        const int64_t n = kc.shape(0);
        {
          py::gil_scoped_release release;
          bp::decode_instances(h.view(), mv, kp, n, g, stride, steps, num_threads, dst);
        }
        return out;
      },
      "BodyPix 2 CPU instance decoder (spec section 11) with all its quirks: for every pixel where mask == 1, the "
      "index of the nearest person of keypoints (float64 (n, 17, 3) [y, x, score] in image pixels, the people only), "
      "or -1. Returns int32 (H, W).",
      py::arg("heads"), py::arg("mask"), py::arg("keypoints"), py::kw_only(), py::arg("output_stride"),
      py::arg("image_height"), py::arg("image_width"), py::arg("input_height"), py::arg("input_width"),
      py::arg("padding"), py::arg("refine_steps"), py::arg("num_threads") = 0);
}

}  // namespace person_segmentation::bindings

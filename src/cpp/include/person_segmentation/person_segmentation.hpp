// Umbrella header of the person-segmentation C++ core.
#pragma once

#include "person_segmentation/bodypix.hpp"
#include "person_segmentation/config.hpp"
#include "person_segmentation/constants.hpp"
#include "person_segmentation/geometry.hpp"
#include "person_segmentation/postprocess.hpp"
#include "person_segmentation/preprocess.hpp"
#include "person_segmentation/runtime.hpp"

# Compiler settings shared by every target, as an INTERFACE library.
add_library(distill_settings INTERFACE)
target_include_directories(distill_settings INTERFACE ${PROJECT_SOURCE_DIR}/src)
target_compile_options(distill_settings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wimplicit-fallthrough -Wno-missing-field-initializers)
if(DISTILL_WERROR)
  target_compile_options(distill_settings INTERFACE -Werror)
endif()
if(DISTILL_SANITIZE)
  target_compile_options(distill_settings INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(distill_settings INTERFACE -fsanitize=address,undefined)
endif()
if(DISTILL_TSAN)
  if(DISTILL_SANITIZE)
    message(FATAL_ERROR "DISTILL_TSAN and DISTILL_SANITIZE cannot be combined")
  endif()
  target_compile_options(distill_settings INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(distill_settings INTERFACE -fsanitize=thread)
endif()
find_package(Threads REQUIRED)
target_link_libraries(distill_settings INTERFACE Threads::Threads)
# With the third-party archives (DISTILL_STATIC_DEPS, cmake/dependencies.cmake)
# the C++ runtime is linked in too, leaving libc as the only shared library.
# Not under a sanitizer, whose runtime replaces operator new and delete.
if(DISTILL_STATIC_DEPS AND NOT DISTILL_SANITIZE AND NOT DISTILL_TSAN AND NOT DISTILL_FUZZ)
  target_link_options(distill_settings INTERFACE -static-libstdc++ -static-libgcc)
endif()

# distill_layer(NAME DEPS...): a static library from every .cpp in the directory.
function(distill_layer name)
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  if(sources)
    add_library(distill_${name} STATIC ${sources})
    target_link_libraries(distill_${name} PUBLIC distill_settings ${ARGN})
    if(DISTILL_UNITY)
      # See DISTILL_UNITY in the top CMakeLists.txt.
      set_target_properties(distill_${name} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 8)
    endif()
  else()
    add_library(distill_${name} INTERFACE)
    target_link_libraries(distill_${name} INTERFACE distill_settings ${ARGN})
  endif()
endfunction()

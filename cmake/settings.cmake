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
find_package(Threads REQUIRED)
target_link_libraries(distill_settings INTERFACE Threads::Threads)

# distill_layer(NAME DEPS...): a static library from every .cpp in the directory.
function(distill_layer name)
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  if(sources)
    add_library(distill_${name} STATIC ${sources})
    target_link_libraries(distill_${name} PUBLIC distill_settings ${ARGN})
  else()
    add_library(distill_${name} INTERFACE)
    target_link_libraries(distill_${name} INTERFACE distill_settings ${ARGN})
  endif()
endfunction()

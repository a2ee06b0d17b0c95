# Turns the rule pack's ini files into C data (run at build time by
# redact/CMakeLists.txt): each file's bytes as a hex array, so no quoting
# of patterns can go wrong, and its name for FILE:LINE messages.
# Inputs: PACK_DIR, OUT.
file(GLOB files "${PACK_DIR}/*.ini")
list(SORT files)
set(body "/* Generated from the .ini files in redact/pack by embed.cmake; do not edit. */\n#include <stddef.h>\n\n#include \"redact/internal.h\"\n\n")
set(table "const struct pack_file redact_pack_files[] = {\n")
set(i 0)
foreach(f IN LISTS files)
  get_filename_component(name "${f}" NAME)
  file(READ "${f}" hex HEX)
  string(REGEX REPLACE "(..)" "0x\\1," hex "${hex}")
  string(APPEND body "static const char pack_${i}[] = { ${hex} 0x00 };\n")
  string(APPEND table "\t{ \"redact/pack/${name}\", pack_${i} },\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND table "};\nconst size_t redact_pack_nfiles = ${i};\n")
file(WRITE "${OUT}.tmp" "${body}\n${table}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)

# Checks that every module includes only the public headers of the modules below it.
#
# Used two ways: include()d by the top CMakeLists.txt (a violation fails the configure), and
# as a script, `cmake -DFE_MODULE_MAP=<file> -P check_module_deps.cmake` (the ctest test
# `module_deps`, so that an include added to an existing file fails the test suite too).
#
# The map file sets, per module M: FE_MOD_M_ALLOWED (modules whose include/fedenum/<X>.h M may
# include: itself and everything below it) and FE_MOD_M_FRIENDS (modules whose private
# src/<X>/<X>_int.h M may include), plus FE_MODULES, FE_SOURCE_DIR and FE_TOP_DIRS (folders
# above every module, e.g. daemon and tools, which may include any public header but no
# private one of another folder).

if(CMAKE_SCRIPT_MODE_FILE)
	cmake_minimum_required(VERSION 3.25)
endif()

function(fe_check_module_includes out_errors)
	set(errors "")
	file(GLOB all_headers RELATIVE ${FE_SOURCE_DIR}/include/fedenum
		${FE_SOURCE_DIR}/include/fedenum/*.h)
	foreach(m ${FE_MODULES} ${FE_TOP_DIRS})
		file(GLOB files ${FE_SOURCE_DIR}/src/${m}/*.c ${FE_SOURCE_DIR}/src/${m}/*.h)
		foreach(f ${files})
			file(STRINGS ${f} incs REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
			foreach(line ${incs})
				string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\".*" "\\1"
					inc "${line}")
				file(RELATIVE_PATH rel ${FE_SOURCE_DIR} ${f})
				if(inc MATCHES "^fedenum/([a-z0-9_]+)\\.h$")
					set(h ${CMAKE_MATCH_1})
					if(m IN_LIST FE_TOP_DIRS)
						continue()
					endif()
					if(NOT h IN_LIST FE_MOD_${m}_ALLOWED)
						string(APPEND errors "  ${rel}: #include \"${inc}\": module"
							" '${m}' may include only ${FE_MOD_${m}_ALLOWED}"
							" (dependencies point down)\n")
					endif()
				elseif(inc MATCHES "\\.\\./|/")
					string(APPEND errors "  ${rel}: #include \"${inc}\": no paths"
						" into other folders\n")
				elseif(NOT EXISTS ${FE_SOURCE_DIR}/src/${m}/${inc})
					# A private header of another module: only a declared friend.
					set(ok FALSE)
					foreach(fr ${FE_MOD_${m}_FRIENDS})
						if(EXISTS ${FE_SOURCE_DIR}/src/${fr}/${inc})
							set(ok TRUE)
						endif()
					endforeach()
					if(NOT ok)
						string(APPEND errors "  ${rel}: #include \"${inc}\": not a"
							" header of module '${m}' nor of a declared friend\n")
					endif()
				endif()
			endforeach()
		endforeach()
	endforeach()
	set(${out_errors} "${errors}" PARENT_SCOPE)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE AND FE_MODULE_MAP)
	include(${FE_MODULE_MAP})
	fe_check_module_includes(errs)
	if(errs)
		message(FATAL_ERROR "upward or foreign includes:\n${errs}")
	endif()
	message(STATUS "module includes point down: ${FE_MODULES}")
endif()

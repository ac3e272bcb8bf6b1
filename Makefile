# Convenience entry points; the build itself is CMake (CMakeLists.txt).
.PHONY: all demo test bench clean

all:
	bash scripts/setup.sh
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build build -j$$(nproc)

# the embedded default is recomputed from nothing, so `make demo` replaces its own folder whole
demo: all
	./build/slashscope demo --force

test:
	bash scripts/setup.sh
	bash scripts/test.sh

bench: all
	bash bench/run.sh

clean:
	rm -rf build build-asan build-fuzz

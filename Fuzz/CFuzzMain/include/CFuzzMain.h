// The libFuzzer build's entry point (see fuzz_main.c); empty in every other build.
#pragma once

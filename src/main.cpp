// src/main.cpp — workq-mark: the reference concurrent marker's command.
#include "marker/cli.hpp"

int main(int argc, char** argv) { return workq::marker::cli_main(argc, argv); }

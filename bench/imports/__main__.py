from bench.imports.run import main

main()

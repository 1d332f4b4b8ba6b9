from bench.evidence.run import main

main()

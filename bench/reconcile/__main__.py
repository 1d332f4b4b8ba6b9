from bench.reconcile.run import main

main()

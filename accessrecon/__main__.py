from accessrecon.cli import main

main()

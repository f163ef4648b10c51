from compiler.startup import main

main()

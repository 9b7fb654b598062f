from pkg.mod import Instance

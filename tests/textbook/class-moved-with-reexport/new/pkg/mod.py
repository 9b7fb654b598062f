from pkg.instance import Instance
